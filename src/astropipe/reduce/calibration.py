"""Master darks and flats and the bad-pixel mask.

* Master dark per DIT: sigma-clipped median of the darks (ccdproc.combine).
* Master flat per filter: the dome flat, (lamp on - lamp off) median-combined,
  each corrected for the row cross-talk (:mod:`astropipe.reduce.crosstalk`) and the
  non-linearity (:mod:`astropipe.reduce.linearity`), and
  normalised to its median, times the illumination correction and renormalised -
  the sky response a science frame is divided by.
* Bad pixels: the supplied map, plus pixels whose flat response is outside
  [0.5, 1.5] and hot pixels (dark above its median by > 10 robust sigma).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from astropy.nddata import CCDData
from astropy.stats import mad_std
from ccdproc import combine
from numpy.typing import NDArray

from astropipe.io.raw_frames import read_raw_data
from astropipe.reduce.crosstalk import remove_row_crosstalk
from astropipe.reduce.linearity import linearize

__all__ = ["bad_pixel_mask", "calibrate_frame", "dome_flat", "master_dark", "master_flat"]


def _combine(paths: list[str]) -> NDArray[np.float64]:
    if len(paths) == 1:
        return read_raw_data(paths[0])
    frames = [CCDData(read_raw_data(p), unit="adu") for p in paths]
    combined = combine(frames, method="median", sigma_clip=True, sigma_clip_low_thresh=3, sigma_clip_high_thresh=3)
    return np.asarray(combined.data, dtype=float)


def master_dark(paths: list[str]) -> NDArray[np.float64]:
    """Median-combined dark (ADU per DIT, reset level included)."""
    if not paths:
        raise ValueError("master_dark: no dark frames")
    return _combine(paths)


def dome_flat(
    lamp_on: list[str],
    lamp_off: list[str],
    reset: NDArray[np.float64] | float = 0.0,
    linearity: Sequence[float] = (),
    crosstalk: float = 0.0,
) -> NDArray[np.float64]:
    """The dome's response: (on - off) normalised to its median.

    Parameters
    ----------
    lamp_on, lamp_off : list of str
        Dome flats with the lamp on and off (same DIT): their difference
        removes the thermal background, the dark and the reset level.
    reset : numpy.ndarray or float
        Reset level of the raw frames (a master dark, ADU): the non-linearity acts on the counts above it.
    linearity : sequence of float
        Coefficients of the linearity correction (:func:`astropipe.reduce.linearity.linearize`); empty: none.
    crosstalk : float
        Row cross-talk coefficient (:func:`astropipe.reduce.crosstalk.remove_row_crosstalk`); 0: none.
    """
    if not lamp_on or not lamp_off:
        raise ValueError("a dome flat needs lamp-on and lamp-off frames")
    on, off = (
        linearize(remove_row_crosstalk(_combine(paths) - reset, crosstalk), linearity) for paths in (lamp_on, lamp_off)
    )
    flat = on - off
    return flat / np.median(flat[np.isfinite(flat) & (flat > 0)])


def master_flat(dome: NDArray[np.float64], illumination: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Normalised sky response: the dome flat times the illumination correction (dome -> sky response),
    renormalised to the median of its plausible pixels (0.5 to 1.5)."""
    flat = dome * illumination
    good = (flat > 0.5) & (flat < 1.5)
    return flat / np.median(flat[good])


def bad_pixel_mask(
    flat: NDArray[np.float64], dark: NDArray[np.float64], supplied: NDArray[np.bool_] | None = None
) -> NDArray[np.bool_]:
    """True for pixels not to be used: supplied map | dead/odd flat response | hot in the dark."""
    bad = ~np.isfinite(flat) | (flat < 0.5) | (flat > 1.5)
    level, spread = np.median(dark), mad_std(dark)
    bad |= dark > level + 10.0 * max(spread, 1e-6)
    if supplied is not None:
        bad |= supplied.astype(bool)
    return bad


def calibrate_frame(
    raw: NDArray[np.float64],
    dark: NDArray[np.float64],
    flat: NDArray[np.float64],
    bad: NDArray[np.bool_],
    linearity: Sequence[float] = (),
    crosstalk: float = 0.0,
) -> NDArray[np.float64]:
    """linearize(decrosstalk(raw - dark)) / flat, NaN on bad pixels (ADU per DIT).

    ``linearity`` holds the coefficients of the linearity correction (:mod:`astropipe.reduce.linearity`;
    empty: none), ``crosstalk`` the row cross-talk coefficient (:mod:`astropipe.reduce.crosstalk`; 0: none);
    the master dark of the frame's DIT stands for its reset level.
    """
    out = linearize(remove_row_crosstalk(raw - dark, crosstalk), linearity) / np.where(bad, 1.0, flat)
    out[bad] = np.nan
    return out
