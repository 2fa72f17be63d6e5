"""Star detection against the local noise (the DAOFIND role).

Stars are found on the signal-to-noise image (image - background) / noise
with photutils' ``DAOStarFinder`` (a Gaussian kernel of the PSF's FWHM), so
the threshold is in units of the local noise everywhere, including the edges
of a dithered stack where fewer frames overlap.
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray
from photutils.detection import DAOStarFinder

__all__ = ["MIN_SEPARATION_FWHM", "ROUNDNESS_LIMIT", "detect_stars"]

MIN_SEPARATION_FWHM = 0.8  # closest two detections, and a new detection to a known star, in FWHM
ROUNDNESS_LIMIT = 1.0  # DAOFIND's default |roundness| cut


def detect_stars(
    signal: NDArray[np.float64],
    noise: NDArray[np.float64],
    fwhm: float,
    nsigma: float = 4.0,
    min_separation_fwhm: float = MIN_SEPARATION_FWHM,
    roundness_range: tuple[float, float] = (-ROUNDNESS_LIMIT, ROUNDNESS_LIMIT),
    model_error: NDArray[np.float64] | None = None,
) -> Table:
    """Detect point sources.

    Parameters
    ----------
    signal : numpy.ndarray
        Background-subtracted image (NaN where not covered).
    noise : numpy.ndarray
        Per-pixel noise, same units.
    fwhm : float
        PSF FWHM, pixels.
    nsigma : float
        Detection threshold in units of the local noise.
    min_separation_fwhm : float
        Minimum separation between reported detections.
    roundness_range : (float, float)
        Accepted DAOFIND roundness (``roundness1``); the default rejects
        detections elongated along a row or column (bad columns, trails).
    model_error : numpy.ndarray, optional
        Uncertainty of models already subtracted from ``signal`` (same units): where it is not
        negligible the threshold rises to ``nsigma`` sqrt(noise^2 + model_error^2).

    Returns
    -------
    astropy.table.Table
        ``x``, ``y`` (0-based pixels), ``peak`` (signal units), ``sharpness``, ``roundness``.
    """
    valid = np.isfinite(signal) & np.isfinite(noise) & (noise > 0)
    snr = np.where(valid, signal / noise, 0.0)
    threshold: float | NDArray[np.float64] = nsigma
    if model_error is not None:
        threshold = nsigma * np.where(valid, np.hypot(1.0, model_error / np.where(valid, noise, 1.0)), 1.0)
    finder = DAOStarFinder(
        threshold=threshold,
        fwhm=fwhm,
        exclude_border=True,
        min_separation=min_separation_fwhm * fwhm,
        sharpness_range=(0.2, 1.0),
        roundness_range=roundness_range,
    )
    found = finder(snr)
    names = ("x", "y", "peak", "sharpness", "roundness")
    if found is None or len(found) == 0:
        return Table(names=names, dtype=(float,) * len(names))
    x, y = np.asarray(found["x_centroid"], float), np.asarray(found["y_centroid"], float)
    xi, yi = (
        np.clip(np.round(x).astype(int), 0, signal.shape[1] - 1),
        np.clip(np.round(y).astype(int), 0, signal.shape[0] - 1),
    )
    peak = np.nan_to_num(signal[yi, xi])
    columns = (x, y, peak, np.asarray(found["sharpness"], float), np.asarray(found["roundness1"], float))
    return Table(columns, names=names)
