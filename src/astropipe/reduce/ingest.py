"""Classify raw SOFI frames from their headers and check the night is reducible.

Every problem names the file, the keyword or value and what was expected: a
corrupt file, a missing keyword, an unknown filter, a DIT without darks, a
filter without flats, a sequence with too few dither positions for sky
subtraction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table

__all__ = ["KNOWN_FILTERS", "IngestError", "classify_frames", "read_frame_header", "validate_night"]

KNOWN_FILTERS = ("J", "H", "Ks")
MIN_DITHER_POSITIONS = 3

#: column -> (header keyword, type); None keyword means derived
_KEYWORDS = {
    "type": ("HIERARCH ESO DPR TYPE", str),
    "object": ("OBJECT", str),
    "dit": ("HIERARCH ESO DET DIT", float),
    "ndit": ("HIERARCH ESO DET NDIT", int),
    "mjd": ("MJD-OBS", float),
}
_SCIENCE_KEYWORDS = {
    "filter": ("HIERARCH ESO INS FILT1 NAME", str),
    "airmass": ("HIERARCH ESO TEL AIRM START", float),
    "offset_x": ("HIERARCH ESO SEQ CUMOFFSETX", float),
    "offset_y": ("HIERARCH ESO SEQ CUMOFFSETY", float),
    "pixel_scale": ("PIXSCALE", float),
}


class IngestError(ValueError):
    """A raw frame or the set of frames cannot be reduced."""


def _get(header: fits.Header, path: Path, keyword: str, kind):
    if keyword not in header:
        raise IngestError(f"{path}: missing header keyword {keyword!r}")
    try:
        return kind(header[keyword])
    except (TypeError, ValueError) as error:
        raise IngestError(f"{path}: keyword {keyword!r} = {header[keyword]!r} is not a valid {kind.__name__}") from error


def read_frame_header(path: str | Path) -> dict:
    """The classification row of one raw frame (reads the header only)."""
    path = Path(path)
    try:
        header = fits.getheader(path)
    except (OSError, ValueError, TypeError) as error:
        raise IngestError(f"{path}: not a readable FITS file ({error})") from error
    row = {"path": str(path)}
    frame_type = header.get("HIERARCH ESO DPR TYPE")
    keywords = dict(_KEYWORDS)
    if frame_type in ("ILLUM", "BPM"):
        keywords = {"type": _KEYWORDS["type"], "object": _KEYWORDS["object"]}
    for column, (keyword, kind) in keywords.items():
        row[column] = _get(header, path, keyword, kind)
    row["filter"] = str(header.get("HIERARCH ESO INS FILT1 NAME", ""))
    if row["type"] in ("OBJECT", "STD"):
        for column, (keyword, kind) in _SCIENCE_KEYWORDS.items():
            row[column] = _get(header, path, keyword, kind)
    if row["type"] in ("OBJECT", "STD", "FLAT,LAMP", "ILLUM") and row["filter"] not in KNOWN_FILTERS:
        raise IngestError(f"{path}: unknown filter {row['filter']!r}; expected one of {KNOWN_FILTERS}")
    if row["type"] == "FLAT,LAMP":
        row["lamp_on"] = bool(_get(header, path, "HIERARCH ESO INS LAMP1 ST", bool))
    if row["type"] == "STD":
        row["object"] = str(header.get("HIERARCH ESO OBS TARG NAME", row["object"]))
    return row


def classify_frames(paths: list[str | Path]) -> Table:
    """Table of every raw frame: path, type, object, filter, DIT, NDIT, MJD, airmass, offsets, lamp state."""
    if not paths:
        raise IngestError("no raw FITS frames found")
    rows = [read_frame_header(p) for p in sorted(map(str, paths))]
    columns = ["path", "type", "object", "filter", "dit", "ndit", "mjd", "airmass", "offset_x", "offset_y",
               "pixel_scale", "lamp_on"]  # fmt: skip
    defaults = {"airmass": np.nan, "offset_x": np.nan, "offset_y": np.nan, "pixel_scale": np.nan, "lamp_on": False,
                "dit": np.nan, "ndit": 0, "mjd": np.nan}  # fmt: skip
    data = {c: [r.get(c, defaults.get(c, "")) for r in rows] for c in columns}
    return Table(data)


def validate_night(frames: Table) -> None:
    """Check that every science/standard frame can be calibrated and sky-subtracted.

    Raises
    ------
    IngestError
        Listing every problem, each naming the file(s) concerned.
    """
    problems = []
    darks = set(np.round(frames["dit"][frames["type"] == "DARK"], 6))
    flats = frames[frames["type"] == "FLAT,LAMP"]
    illum = set(frames["filter"][frames["type"] == "ILLUM"])
    light = frames[np.isin(frames["type"], ["OBJECT", "STD"])]
    for row in light:
        if round(float(row["dit"]), 6) not in darks:
            problems.append(f"{row['path']}: DIT = {row['dit']} s has no matching dark (darks: {sorted(darks)})")
    for band in sorted(set(light["filter"])):
        states = set(flats["lamp_on"][flats["filter"] == band])
        if states != {True, False}:
            problems.append(f"filter {band}: needs lamp-on and lamp-off dome flats (found lamp states {sorted(states)})")
        if band not in illum:
            problems.append(f"filter {band}: no illumination-correction frame (ESO DPR TYPE = 'ILLUM')")
    science = frames[frames["type"] == "OBJECT"]
    for key in sorted({(r["object"], r["filter"]) for r in science}):
        rows = science[(science["object"] == key[0]) & (science["filter"] == key[1])]
        positions = {(round(float(x), 1), round(float(y), 1)) for x, y in zip(rows["offset_x"], rows["offset_y"], strict=True)}
        if len(positions) < MIN_DITHER_POSITIONS:
            problems.append(
                f"sequence {key[0]} {key[1]} ({', '.join(Path(p).name for p in rows['path'])}): "
                f"{len(positions)} dither position(s); sky subtraction needs >= {MIN_DITHER_POSITIONS}"
            )
    if problems:
        raise IngestError("the raw night cannot be reduced:\n  - " + "\n  - ".join(problems))
