"""Classify raw SOFI frames from their headers and check the night is reducible.

Every frame of the raw directory gets a row of the ingest table. Frames the reduction does not use
(acquisition, test, offset-sky, spectroscopic frames ...) are listed with ``type = 'UNUSED'`` and the
reason, never dropped silently. A frame the reduction would use but cannot read is an error that
names the file, the keyword or value and what was expected: a corrupt or truncated file, a missing
keyword, an unknown filter; :func:`validate_night` then checks that every sequence can be
calibrated: a DIT without darks, a filter without flats, too few dither positions for the sky.
The ESO keywords are read by :mod:`astropipe.reduce.eso_headers`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time

from astropipe.io.raw_frames import open_raw_frame
from astropipe.reduce.eso_headers import (
    PIXEL_SCALE_KEYWORD,
    cumulative_offsets,
    filter_name,
    frame_kind,
    lamp_state,
    safe_field_name,
    split_flats_by_level,
    target_name,
)
from astropipe.reduce.illumination import MIN_POSITIONS

__all__ = ["KNOWN_FILTERS", "IngestError", "classify_frames", "read_frame_header", "validate_night"]

KNOWN_FILTERS = ("J", "H", "Ks")
#: a night's frames are time-stamped from noon UTC of its date to noon UTC of the next day
NIGHT_START_HOUR_UTC = 12.0
MIN_DITHER_POSITIONS = 3
COLUMNS = (
    "path",
    "type",
    "reason",
    "object",
    "field",
    "filter",
    "dit",
    "ndit",
    "mjd",
    "airmass",
    "offset_x",
    "offset_y",
    "pixel_scale",
    "lamp_on",
    "lamp_from",
    "dpr_type",
    "template",
    "rows",
    "columns",
)
_DEFAULTS = {
    "airmass": np.nan,
    "offset_x": np.nan,
    "offset_y": np.nan,
    "pixel_scale": np.nan,
    "lamp_on": False,
    "dit": np.nan,
    "ndit": 0,
    "mjd": np.nan,
}

#: column -> (header keyword, type) read from every used frame
_KEYWORDS = {
    "dit": ("HIERARCH ESO DET DIT", float),
    "ndit": ("HIERARCH ESO DET NDIT", int),
    "mjd": ("MJD-OBS", float),
}
_SKY_KEYWORDS = {
    "airmass": ("HIERARCH ESO TEL AIRM START", float),
    "pixel_scale": (PIXEL_SCALE_KEYWORD, float),
}


class IngestError(ValueError):
    """A raw frame or the set of frames cannot be reduced."""


def _get(header: fits.Header, path: Path, keyword: str, kind):
    if keyword not in header:
        raise IngestError(f"{path}: missing header keyword {keyword!r}")
    try:
        return kind(header[keyword])
    except (TypeError, ValueError) as error:
        raise IngestError(
            f"{path}: keyword {keyword!r} = {header[keyword]!r} is not a valid {kind.__name__}"
        ) from error


def _check_data_unit(path: Path, hdul: fits.HDUList) -> tuple[int, int]:
    """(rows, columns) of the primary image, after checking that the file holds all of its data."""
    header = hdul[0].header
    if header.get("NAXIS", 0) != 2:
        raise IngestError(
            f"{path}: keyword 'NAXIS' = {header.get('NAXIS')!r}; expected a 2-dimensional image in the primary HDU"
        )
    shape = (int(header["NAXIS2"]), int(header["NAXIS1"]))
    if path.name.lower().endswith((".fits", ".fit", ".fts")):
        needed = hdul.fileinfo(0)["datLoc"] + shape[0] * shape[1] * abs(int(header["BITPIX"])) // 8
        size = path.stat().st_size
        if size < needed:
            raise IngestError(
                f"{path}: the data unit is truncated: the file has {size} bytes, its header "
                f"({shape[1]} x {shape[0]} pixels, BITPIX {header['BITPIX']}) needs {needed} "
                f"(an interrupted copy or download?)"
            )
    else:  # compressed: only decompressing tells whether the whole data unit is there
        try:
            data = hdul[0].data
        except (OSError, EOFError, ValueError, TypeError) as error:
            raise IngestError(
                f"{path}: the data unit cannot be read ({error}); a truncated or damaged file?"
            ) from error
        if data is None or data.shape != shape:
            raise IngestError(
                f"{path}: the data unit holds {None if data is None else data.shape}, the header says {shape}"
            )
    return shape


def _flat_level(hdul: fits.HDUList) -> float:
    return float(np.nanmedian(hdul[0].data))


def read_frame_header(path: str | Path, field_names: dict[str, str] | None = None) -> dict:
    """The ingest row of one raw frame (reads the header; checks the size of the data unit).

    Parameters
    ----------
    path : str or Path
        A raw frame (``.fits``, ``.fits.gz`` or ``.fits.Z``).
    field_names : dict, optional
        Target name in the headers (``OBS TARG NAME`` or ``OBJECT``) -> the workflow's field name.
    """
    path = Path(path)
    try:
        with open_raw_frame(path) as hdul:
            header = hdul[0].header
            shape = _check_data_unit(path, hdul)
            kind = frame_kind(header)
            level = _flat_level(hdul) if kind.kind == "FLAT,LAMP" else np.nan
    except IngestError:
        raise
    except (OSError, ValueError, TypeError, KeyError, EOFError) as error:
        raise IngestError(f"{path}: not a readable FITS file ({error})") from error
    target = target_name(header)
    row = {
        "path": str(path),
        "rows": shape[0],
        "columns": shape[1],
        "type": kind.kind,
        "reason": kind.reason,
        "object": target,
        "field": safe_field_name(target, field_names),
        "dpr_type": str(header.get("HIERARCH ESO DPR TYPE", "")),
        "template": str(header.get("HIERARCH ESO TPL ID", "")),
        "filter": filter_name(header),
        "lamp_level": level,
        "lamp_header": lamp_state(header),
    }
    if kind.kind in ("UNUSED", "ILLUM", "BPM"):
        return row
    for column, (keyword, kind_of) in _KEYWORDS.items():
        row[column] = _get(header, path, keyword, kind_of)
    if not row["dit"] > 0:
        raise IngestError(
            f"{path}: keyword 'HIERARCH ESO DET DIT' = {row['dit']!r}; expected an integration time > 0 s"
        )
    if row["ndit"] < 1:
        raise IngestError(f"{path}: keyword 'HIERARCH ESO DET NDIT' = {row['ndit']!r}; expected at least 1 integration")
    if kind.kind in ("OBJECT", "STD", "STD,ILLUM"):
        for column, (keyword, kind_of) in _SKY_KEYWORDS.items():
            row[column] = _get(header, path, keyword, kind_of)
        for keyword in ("HIERARCH ESO SEQ CUMOFFSETX", "HIERARCH ESO SEQ CUMOFFSETY"):
            _get(header, path, keyword, float)
        row["offset_x"], row["offset_y"] = cumulative_offsets(header)
        if not 1.0 <= row["airmass"] <= 10.0:
            raise IngestError(
                f"{path}: keyword 'HIERARCH ESO TEL AIRM START' = {row['airmass']!r}; expected an airmass in [1, 10]"
            )
        if not row["pixel_scale"] > 0:
            raise IngestError(
                f"{path}: keyword {PIXEL_SCALE_KEYWORD!r} = {row['pixel_scale']!r}; expected a pixel scale > 0 arcsec"
            )
    if kind.kind in ("OBJECT", "STD", "STD,ILLUM", "FLAT,LAMP") and row["filter"] not in KNOWN_FILTERS:
        raise IngestError(
            f"{path}: unknown filter {row['filter']!r} (keywords 'HIERARCH ESO INS FILT1 ID' and "
            f"'HIERARCH ESO INS FILT2 ID'); expected one of {KNOWN_FILTERS} with the other wheel open"
        )
    return row


def _lamp_states(rows: list[dict]) -> None:
    """Lamp on/off of the dome flats, per filter and DIT: from the headers where they tell both states
    apart (``INS LAMPi ST``), else from the frames' levels (the dome lamp may have no keyword)."""
    flats = [r for r in rows if r["type"] == "FLAT,LAMP"]
    for key in sorted({(r["filter"], r["dit"]) for r in flats}):
        group = [r for r in flats if (r["filter"], r["dit"]) == key]
        if {r["lamp_header"] for r in group} == {True, False}:
            for row in group:
                row["lamp_on"], row["lamp_from"] = row["lamp_header"], "header"
            continue
        try:
            states = split_flats_by_level(np.array([r["lamp_level"] for r in group]))
        except ValueError as error:
            names = ", ".join(Path(r["path"]).name for r in group)
            raise IngestError(
                f"dome flats of filter {key[0]}, DIT {key[1]} s ({names}): the headers do not tell "
                f"lamp-on from lamp-off frames ('HIERARCH ESO INS LAMPi ST'), and {error}"
            ) from error
        for row, state in zip(group, states, strict=True):
            row["lamp_on"], row["lamp_from"] = bool(state), "level"


def _check_field_names(rows: list[dict]) -> None:
    """Two different targets must not share one field name."""
    targets: dict[str, set[str]] = {}
    for row in rows:
        if row["type"] == "OBJECT":
            targets.setdefault(row["field"], set()).add(row["object"])
    clashes = {field: names for field, names in targets.items() if len(names) > 1}
    if clashes:
        field, names = sorted(clashes.items())[0]
        raise IngestError(f"targets {sorted(names)} all become field {field!r}; name them apart in imaging.field_names")


def classify_frames(
    paths: list[str | Path], field_names: dict[str, str] | None = None, log: logging.Logger | None = None
) -> Table:
    """The ingest table: one row per raw frame, used or not (then with the reason).

    Columns: path, type (``OBJECT``, ``STD``, ``STD,ILLUM``, ``DARK``, ``FLAT,LAMP``, ``ILLUM``, ``BPM``
    or ``UNUSED``), reason, object (the target name of the headers), field (its workflow name), filter,
    DIT (s), NDIT, MJD, airmass, offsets (pixels), pixel scale (arcsec), lamp state and where it came
    from (``header`` or ``level``), the ESO DPR TYPE and template, the image size.
    """
    if not paths:
        raise IngestError("no raw FITS frames found")
    rows = [read_frame_header(p, field_names) for p in sorted(map(str, paths))]
    _lamp_states(rows)
    _check_field_names(rows)
    for row in rows:
        if row["type"] == "UNUSED" and log is not None:
            log.warning("%s: not used: %s", row["path"], row["reason"])
    return Table({c: [r.get(c, _DEFAULTS.get(c, "")) for r in rows] for c in COLUMNS})


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
    frames = frames[frames["type"] != "UNUSED"]
    if len(frames) == 0:
        raise IngestError("the raw night cannot be reduced: none of its frames is a frame the imaging reduction uses")
    shapes = [(int(r), int(c)) for r, c in zip(frames["rows"], frames["columns"], strict=True)]
    common = max(set(shapes), key=shapes.count)
    for path, shape in zip(frames["path"], shapes, strict=True):
        if shape != common:
            problems.append(
                f"{path}: {shape[1]} x {shape[0]} pixels; the night's other frames have {common[1]} x {common[0]}"
            )
    if night is not None:
        start = Time(f"{night}T00:00:00", scale="utc").mjd + NIGHT_START_HOUR_UTC / 24.0
        stamped = np.isfinite(np.asarray(frames["mjd"], float))
        for row in frames[stamped]:
            if not start <= row["mjd"] < start + 1.0:
                when = Time(row["mjd"], format="mjd").isot
                problems.append(
                    f"{row['path']}: MJD-OBS = {row['mjd']} ({when}) is outside the night of {night} (noon to noon UTC)"
                )
    darks = set(np.round(frames["dit"][frames["type"] == "DARK"], 6))
    flats = frames[frames["type"] == "FLAT,LAMP"]
    illum = set(frames["filter"][frames["type"] == "ILLUM"])
    grids = frames[frames["type"] == "STD,ILLUM"]
    light = frames[np.isin(frames["type"], ["OBJECT", "STD", "STD,ILLUM"])]
    for row in light:
        if round(float(row["dit"]), 6) not in darks:
            problems.append(f"{row['path']}: DIT = {row['dit']} s has no matching dark (darks: {sorted(darks)})")
    for band in sorted(set(light["filter"])):
        states = set(flats["lamp_on"][flats["filter"] == band])
        if states != {True, False}:
            problems.append(
                f"filter {band}: needs lamp-on and lamp-off dome flats (found lamp states {sorted(states)})"
            )
        grid_frames = (grids["filter"] == band).sum()
        if band not in illum and grid_frames < MIN_POSITIONS:
            problems.append(
                f"filter {band}: no illumination correction: neither a frame with ESO DPR TYPE = 'ILLUM' nor "
                f"a standard star on a grid of >= {MIN_POSITIONS} positions (illumination template; "
                f"found {grid_frames} frames)"
            )
    science = frames[frames["type"] == "OBJECT"]
    for key in sorted({(r["field"], r["filter"]) for r in science}):
        rows = science[(science["field"] == key[0]) & (science["filter"] == key[1])]
        positions = {
            (round(float(x), 1), round(float(y), 1)) for x, y in zip(rows["offset_x"], rows["offset_y"], strict=True)
        }
        if len(positions) < MIN_DITHER_POSITIONS:
            problems.append(
                f"sequence {key[0]} {key[1]} ({', '.join(Path(p).name for p in rows['path'])}): "
                f"{len(positions)} dither position(s); sky subtraction needs >= {MIN_DITHER_POSITIONS}"
            )
    if problems:
        raise IngestError("the raw night cannot be reduced:\n  - " + "\n  - ".join(problems))
