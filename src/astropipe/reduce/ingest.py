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
from astropy.time import Time

__all__ = [
    "KNOWN_FILTERS",
    "KNOWN_TYPES",
    "RAW_FRAME_SUFFIXES",
    "IngestError",
    "classify_frames",
    "find_raw_frames",
    "read_frame_header",
    "validate_night",
]

KNOWN_FILTERS = ("J", "H", "Ks")
#: frame types (``HIERARCH ESO DPR TYPE``) the reduction uses; any other is reported, never dropped
KNOWN_TYPES = ("OBJECT", "STD", "DARK", "FLAT,LAMP", "ILLUM", "BPM")
#: a night's frames are time-stamped from noon UTC of its date to noon UTC of the next day
NIGHT_START_HOUR_UTC = 12.0
#: names of raw frames as instruments and the ESO archive deliver them, matched without regard to case
#: (astropy reads the gzipped ones, and the Unix-compressed ``.Z`` ones with the uncompresspy package)
RAW_FRAME_SUFFIXES = tuple(f"{base}{packing}" for packing in ("", ".gz", ".z") for base in (".fits", ".fit", ".fts"))
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


def find_raw_frames(locations: list[str | Path]) -> list[Path]:
    """The raw frames among ``locations``: files as given, directories searched recursively.

    A frame is a file whose name ends in one of :data:`RAW_FRAME_SUFFIXES` (case-insensitive); hidden
    files (names starting with a dot, such as Snakemake's timestamps) are not frames.
    """
    frames = []
    for location in map(Path, locations):
        candidates = sorted(location.rglob("*")) if location.is_dir() else [location]
        frames += [path for path in candidates if path.is_file() and not path.name.startswith(".")
                   and path.name.lower().endswith(RAW_FRAME_SUFFIXES)]  # fmt: skip
    return frames


def _get(header: fits.Header, path: Path, keyword: str, kind):
    if keyword not in header:
        raise IngestError(f"{path}: missing header keyword {keyword!r}")
    try:
        return kind(header[keyword])
    except (TypeError, ValueError) as error:
        raise IngestError(f"{path}: keyword {keyword!r} = {header[keyword]!r} is not a valid {kind.__name__}") from error


def _check_data_unit(path: Path, hdul: fits.HDUList) -> tuple[int, int]:
    """(rows, columns) of the primary image, after checking that the file holds all of its data."""
    header = hdul[0].header
    if header.get("NAXIS", 0) != 2:
        raise IngestError(f"{path}: keyword 'NAXIS' = {header.get('NAXIS')!r}; expected a 2-dimensional image in the primary HDU")
    shape = (int(header["NAXIS2"]), int(header["NAXIS1"]))
    if path.name.lower().endswith((".fits", ".fit", ".fts")):
        needed = hdul.fileinfo(0)["datLoc"] + shape[0] * shape[1] * abs(int(header["BITPIX"])) // 8
        size = path.stat().st_size
        if size < needed:
            raise IngestError(f"{path}: the data unit is truncated: the file has {size} bytes, its header "
                              f"({shape[1]} x {shape[0]} pixels, BITPIX {header['BITPIX']}) needs {needed} "
                              f"(an interrupted copy or download?)")  # fmt: skip
    else:  # compressed: only decompressing tells whether the whole data unit is there
        try:
            data = hdul[0].data
        except (OSError, EOFError, ValueError, TypeError) as error:
            raise IngestError(f"{path}: the data unit cannot be read ({error}); a truncated or damaged file?") from error
        if data is None or data.shape != shape:
            raise IngestError(f"{path}: the data unit holds {None if data is None else data.shape}, the header says {shape}")
    return shape


def read_frame_header(path: str | Path) -> dict:
    """The classification row of one raw frame (reads the header; checks the size of the data unit)."""
    path = Path(path)
    try:
        with fits.open(path) as hdul:
            header = hdul[0].header
            shape = _check_data_unit(path, hdul)
    except IngestError:
        raise
    except (OSError, ValueError, TypeError, KeyError, EOFError) as error:
        raise IngestError(f"{path}: not a readable FITS file ({error})") from error
    row = {"path": str(path), "rows": shape[0], "columns": shape[1]}
    frame_type = header.get("HIERARCH ESO DPR TYPE")
    if frame_type not in KNOWN_TYPES:
        raise IngestError(f"{path}: keyword 'HIERARCH ESO DPR TYPE' = {frame_type!r} is not a frame type the reduction "
                          f"uses {KNOWN_TYPES}; correct the keyword or move the frame out of the raw directory")  # fmt: skip
    keywords = dict(_KEYWORDS)
    if frame_type in ("ILLUM", "BPM"):
        keywords = {"type": _KEYWORDS["type"], "object": _KEYWORDS["object"]}
    for column, (keyword, kind) in keywords.items():
        row[column] = _get(header, path, keyword, kind)
    if "dit" in row and not row["dit"] > 0:
        raise IngestError(f"{path}: keyword 'HIERARCH ESO DET DIT' = {row['dit']!r}; expected an integration time > 0 s")
    if "ndit" in row and row["ndit"] < 1:
        raise IngestError(f"{path}: keyword 'HIERARCH ESO DET NDIT' = {row['ndit']!r}; expected at least 1 integration")
    row["filter"] = str(header.get("HIERARCH ESO INS FILT1 NAME", ""))
    if row["type"] in ("OBJECT", "STD"):
        for column, (keyword, kind) in _SCIENCE_KEYWORDS.items():
            row[column] = _get(header, path, keyword, kind)
        if not 1.0 <= row["airmass"] <= 10.0:
            raise IngestError(f"{path}: keyword 'HIERARCH ESO TEL AIRM START' = {row['airmass']!r}; expected an airmass in [1, 10]")
        if not row["pixel_scale"] > 0:
            raise IngestError(f"{path}: keyword 'PIXSCALE' = {row['pixel_scale']!r}; expected a pixel scale > 0 arcsec")
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
               "pixel_scale", "lamp_on", "rows", "columns"]  # fmt: skip
    defaults = {"airmass": np.nan, "offset_x": np.nan, "offset_y": np.nan, "pixel_scale": np.nan, "lamp_on": False,
                "dit": np.nan, "ndit": 0, "mjd": np.nan}  # fmt: skip
    data = {c: [r.get(c, defaults.get(c, "")) for r in rows] for c in columns}
    return Table(data)


def validate_night(frames: Table, night: str | None = None) -> None:
    """Check that every science/standard frame can be calibrated and sky-subtracted.

    Parameters
    ----------
    frames : Table
        The classification of :func:`classify_frames`.
    night : str, optional
        The night's date (YYYY-MM-DD, evening); every time-stamped frame must have been taken
        between noon UTC of that date and noon UTC of the next day.

    Raises
    ------
    IngestError
        Listing every problem, each naming the file(s) concerned: a DIT without darks, a filter
        without lamp-on/off flats or illumination correction, a sequence with too few dither
        positions, a frame of another size than the others, a time stamp outside the night.
    """
    problems = []
    shapes = [(int(r), int(c)) for r, c in zip(frames["rows"], frames["columns"], strict=True)]
    common = max(set(shapes), key=shapes.count)
    for path, shape in zip(frames["path"], shapes, strict=True):
        if shape != common:
            problems.append(f"{path}: {shape[1]} x {shape[0]} pixels; the night's other frames have {common[1]} x {common[0]}")
    if night is not None:
        start = Time(f"{night}T00:00:00", scale="utc").mjd + NIGHT_START_HOUR_UTC / 24.0
        stamped = np.isfinite(np.asarray(frames["mjd"], float))
        for row in frames[stamped]:
            if not start <= row["mjd"] < start + 1.0:
                when = Time(row["mjd"], format="mjd").isot
                problems.append(f"{row['path']}: MJD-OBS = {row['mjd']} ({when}) is outside the night of {night} "
                                f"(noon to noon UTC)")  # fmt: skip
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
