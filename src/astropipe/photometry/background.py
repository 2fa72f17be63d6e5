"""Background and noise maps of a stacked image.

The background (sky residual plus unresolved starlight) is a sigma-clipped
mesh estimate (photutils ``Background2D``) with detected sources masked. The
per-pixel noise combines the background rms, scaled by the local depth
(exposure map), and the Poisson noise of the sources through the effective
gain of the stack.
"""

from __future__ import annotations

import numpy as np
from astropy.stats import SigmaClip
from numpy.typing import NDArray
from photutils.background import Background2D, MedianBackground

__all__ = ["background_map", "noise_map"]


def background_map(
    image: NDArray[np.float64], mask: NDArray[np.bool_] | None = None, box: int = 32, filter_size: int = 3
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Background and background-rms maps (same units as ``image``).

    NaN pixels (uncovered or bad) are excluded.
    """
    coverage = ~np.isfinite(image)
    combined = coverage if mask is None else coverage | mask
    ny, nx = image.shape
    box = int(min(box, ny // 2, nx // 2))
    estimate = Background2D(
        np.nan_to_num(image, nan=0.0),
        box,
        mask=combined,
        filter_size=filter_size,
        sigma_clip=SigmaClip(sigma=3.0, maxiters=5),
        bkg_estimator=MedianBackground(),
        exclude_percentile=90.0,
    )
    return np.asarray(estimate.background), np.asarray(estimate.background_rms)


def noise_map(
    background_rms: NDArray[np.float64],
    signal: NDArray[np.float64],
    exposure: NDArray[np.float64] | None = None,
    gain: float | None = None,
) -> NDArray[np.float64]:
    """Per-pixel standard deviation: rms scaled to the local depth, plus source Poisson noise.

    Parameters
    ----------
    background_rms : numpy.ndarray
        Background rms at full depth.
    signal : numpy.ndarray
        Source signal (image minus background), same units.
    exposure : numpy.ndarray, optional
        Exposure time per pixel; the rms grows as sqrt(max / exposure).
    gain : float, optional
        Effective gain at full depth, e- per image unit; no source term if None.
    """
    variance = background_rms**2
    if exposure is not None:
        depth = np.where(exposure > 0, exposure / np.max(exposure), np.nan)
        variance = variance / depth
    else:
        depth = 1.0
    if gain is not None and gain > 0:
        variance = variance + np.clip(signal, 0.0, None) / (gain * depth)
    return np.sqrt(variance)
