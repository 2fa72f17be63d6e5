"""What a raw SOFI frame is, read from the keywords the ESO archive delivers.

The translation follows the SOFI User's Manual (LSO-MAN-ESO-40100-0004), the ESO Data Interface
Control Document and the ORAC-DR SOFI header translator (``Astro::FITS::HdrTrans::SOFI``):

* **frame kind** from ``DPR CATG`` / ``DPR TYPE`` / ``DPR TECH`` and the template ``TPL ID``:
  science jitter frames (``OBJECT``), standard stars (``STD``; ``STD,ILLUM`` when the template is an
  illumination template, ``TPL ID`` containing ``Illum``), darks, lamp dome flats; acquisition,
  test and technical frames, spectroscopy and polarimetry, and the ``SKY`` frames of jitter-offset
  templates are not used, each with its reason;
* **filter** from the two wheels ``INS FILT1 ID`` and ``INS FILT2 ID``: one holds the filter, the
  other is ``open``; ``blank`` in either closes the beam (darks);
* **pixel scale** from ``INS PIXSCALE`` (arcsec/pixel; there is no primary ``PIXSCALE``);
* **dither offsets** from ``SEQ CUMOFFSETX/Y`` (pixels, the shift of the sky on the detector); the
  first exposure of a template (``TPL EXPNO`` = 1) is the origin of its offsets, even where the
  header reports a non-zero value for it, as it sometimes does;
* **lamp state** of dome flats from ``INS LAMPi ST`` (any lamp activated) where the frame has such a
  keyword; otherwise :func:`split_flats_by_level` tells lamp-on from lamp-off frames by their level.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
from astropy.io import fits

__all__ = [
    "FILTER_KEYWORDS",
    "PIXEL_SCALE_KEYWORD",
    "FrameKind",
    "cumulative_offsets",
    "filter_name",
    "frame_kind",
    "lamp_state",
    "safe_field_name",
    "split_flats_by_level",
    "target_name",
]

#: the two filter wheels (unique filter IDs; the ``NAME`` keywords are read where an ID is missing)
FILTER_KEYWORDS = (
    ("HIERARCH ESO INS FILT1 ID", "HIERARCH ESO INS FILT1 NAME"),
    ("HIERARCH ESO INS FILT2 ID", "HIERARCH ESO INS FILT2 NAME"),
)
PIXEL_SCALE_KEYWORD = "HIERARCH ESO INS PIXSCALE"
#: a wheel position that passes all light / one that closes the beam
OPEN_POSITIONS = ("open", "free", "")
BLANK_POSITIONS = ("blank", "closed", "dark")
#: calibration products ESO does not deliver as raw frames; a user may put them into the night's
#: directory under these types (see the imaging documentation)
PRODUCT_TYPES = ("ILLUM", "BPM")
_NOT_USED_CATEGORIES = {
    "ACQUISITION": "an acquisition frame (DPR CATG = 'ACQUISITION')",
    "TEST": "a test frame (DPR CATG = 'TEST')",
    "TECHNICAL": "a technical frame (DPR CATG = 'TECHNICAL')",
}


class FrameKind(NamedTuple):
    """The pipeline's type of a frame, or ``"UNUSED"`` with the reason the frame is not used."""

    kind: str
    reason: str = ""


def _text(header: fits.Header, keyword: str) -> str:
    return str(header.get(keyword, "")).strip()


def frame_kind(header: fits.Header) -> FrameKind:
    """The pipeline's type of a raw frame: ``OBJECT``, ``STD``, ``STD,ILLUM`` (a standard star stepped
    over the array by an illumination template), ``DARK``, ``FLAT,LAMP``, ``ILLUM``, ``BPM``, or
    ``UNUSED`` with the reason.

    Parameters
    ----------
    header : astropy.io.fits.Header
        Primary header of a raw frame.

    Returns
    -------
    FrameKind
        ``(kind, reason)``; the reason is empty for a used frame.
    """
    frame_type = _text(header, "HIERARCH ESO DPR TYPE").upper()
    category = _text(header, "HIERARCH ESO DPR CATG").upper()
    technique = _text(header, "HIERARCH ESO DPR TECH").upper()
    template = _text(header, "HIERARCH ESO TPL ID")
    if frame_type in PRODUCT_TYPES:
        return FrameKind(frame_type)
    if not frame_type:
        return FrameKind("UNUSED", "no keyword 'HIERARCH ESO DPR TYPE': not an ESO raw frame")
    if category in _NOT_USED_CATEGORIES:
        return FrameKind("UNUSED", _NOT_USED_CATEGORIES[category])
    if "_acq_" in template.lower():
        return FrameKind("UNUSED", f"an acquisition frame (TPL ID = {template!r})")
    if technique and not technique.startswith("IMAGE"):
        return FrameKind("UNUSED", f"not an imaging frame (DPR TECH = {technique!r})")
    if frame_type == "DARK":
        return FrameKind("DARK")
    if frame_type in ("FLAT,LAMP", "LAMP,FLAT", "FLAT"):
        return FrameKind("FLAT,LAMP")
    if frame_type == "STD":
        return FrameKind("STD,ILLUM" if "illum" in template.lower() else "STD")
    if frame_type == "OBJECT":
        return FrameKind("OBJECT")
    if frame_type == "SKY":
        return FrameKind(
            "UNUSED", "an offset sky frame (DPR TYPE = 'SKY'): the sky is estimated from the dithered object frames"
        )
    return FrameKind(
        "UNUSED",
        f"DPR TYPE = {frame_type!r} is not a frame type the imaging reduction uses (OBJECT, STD, DARK, FLAT,LAMP)",
    )


def filter_name(header: fits.Header) -> str:
    """The filter in the beam, from the two filter wheels; ``"blank"`` when a wheel closes it.

    Returns ``""`` when both wheels are open (or the keywords are absent), and ``"A+B"`` when both
    wheels hold a filter (no broad-band filter of the calibration).
    """
    positions = []
    for id_keyword, name_keyword in FILTER_KEYWORDS:
        value = _text(header, id_keyword) or _text(header, name_keyword)
        positions.append(value)
    if any(p.lower() in BLANK_POSITIONS for p in positions):
        return "blank"
    filters = [p for p in positions if p.lower() not in OPEN_POSITIONS]
    return "+".join(filters)


def lamp_state(header: fits.Header) -> bool | None:
    """True if any calibration lamp is activated (``INS LAMPi ST``), None if no lamp keyword is present."""
    states = [bool(value) for keyword, value in header.items() if re.fullmatch(r"ESO INS LAMP\d+ ST", keyword)]
    return any(states) if states else None


def cumulative_offsets(header: fits.Header) -> tuple[float, float]:
    """(x, y) offset in pixels of the sky on the detector relative to the template's first exposure.

    The first exposure (``TPL EXPNO`` = 1) is the origin: (0, 0), whatever its header says.
    """
    if int(header.get("HIERARCH ESO TPL EXPNO", 0)) == 1:
        return 0.0, 0.0
    return float(header["HIERARCH ESO SEQ CUMOFFSETX"]), float(header["HIERARCH ESO SEQ CUMOFFSETY"])


def target_name(header: fits.Header) -> str:
    """The observed target: ``OBS TARG NAME`` where present, else ``OBJECT``."""
    return _text(header, "HIERARCH ESO OBS TARG NAME") or _text(header, "OBJECT")


def safe_field_name(target: str, names: dict[str, str] | None = None) -> str:
    """The workflow's name of a target: from ``names`` (header name -> field), else letters, digits
    and underscores only (``'GLIMPSE +C01'`` -> ``'GLIMPSE_C01'``).

    Examples
    --------
    >>> safe_field_name("Object 11", {"Object 11": "object11"})
    'object11'
    >>> safe_field_name("GLIMPSE +C01")
    'GLIMPSE_C01'
    """
    if names and target in names:
        return names[target]
    return re.sub(r"[^A-Za-z0-9]+", "_", target).strip("_")


def split_flats_by_level(levels: np.ndarray) -> np.ndarray:
    """Lamp on (True) / off (False) of dome flats of one filter and DIT from their median levels.

    The frames are split at the widest gap between sorted levels; a set whose widest gap is not
    at least five times the spread within the two groups has no clear on/off split and raises.
    """
    levels = np.asarray(levels, dtype=float)
    if len(levels) < 2:
        raise ValueError(f"{len(levels)} dome flat(s): lamp-on and lamp-off frames are needed")
    order = np.sort(levels)
    gaps = np.diff(order)
    cut = int(np.argmax(gaps))
    low, high = order[: cut + 1], order[cut + 1 :]
    spread = max(np.ptp(low), np.ptp(high), 1e-9)
    if gaps[cut] < 5.0 * spread:
        raise ValueError(f"dome flat levels {np.round(order, 1).tolist()} ADU have no clear lamp-on/lamp-off split")
    return levels > order[cut]
