"""Combining registered frames: canvas placement, sigma-clipped weighted mean, exposure map.

Frame i is placed on a canvas holding every dither position: its pixel
(x, y) goes to (x - dx_i + margin, y - dy_i + margin), with cubic-spline
sub-pixel interpolation; pixels touched by a bad or uncovered pixel are left
out. The combine rejects values further than ``sigma`` robust standard
deviations from the per-pixel median (cosmic rays, bad pixels missed by the
mask, residual persistence) and averages the rest with the given per-frame weights.
"""

from __future__ import annotations

import warnings

import numpy as np
from astropy.stats import sigma_clip
from astropy.utils.exceptions import AstropyUserWarning
from numpy.typing import NDArray
from scipy.ndimage import shift as ndi_shift

__all__ = ["canvas_margin", "combine", "place_on_canvas"]


def canvas_margin(offsets: NDArray[np.float64]) -> int:
    """Margin (pixels) that keeps every dithered frame inside the canvas."""
    return int(np.ceil(np.max(np.abs(offsets)))) + 2 if len(offsets) else 2


def place_on_canvas(
    image: NDArray[np.float64], offset: tuple[float, float], margin: int
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Shift ``image`` onto the canvas; return (values, valid)."""
    ny, nx = image.shape
    canvas = np.zeros((ny + 2 * margin, nx + 2 * margin))
    valid = np.zeros_like(canvas)
    good = np.isfinite(image)
    canvas[margin : margin + ny, margin : margin + nx] = np.where(good, image, 0.0)
    valid[margin : margin + ny, margin : margin + nx] = good
    shift = (-offset[1], -offset[0])
    moved = ndi_shift(canvas, shift, order=3, mode="constant", cval=0.0)
    coverage = ndi_shift(valid, shift, order=1, mode="constant", cval=0.0)
    ok = coverage > 0.999
    return np.where(ok, moved, np.nan).astype(np.float32), ok


def combine(
    images: list[NDArray[np.float32]], weights: NDArray[np.float64], sigma: float = 4.0
) -> tuple[NDArray[np.float64], NDArray[np.int16]]:
    """Sigma-clipped weighted mean of canvas images; also the number of frames used per pixel."""
    with warnings.catch_warnings():
        # a NaN cube (not a masked array) takes astropy's compiled path; NaN (no coverage) comes back masked
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", AstropyUserWarning)  # "input data contains invalid values": expected
        clipped = sigma_clip(
            np.stack(images), sigma=sigma, maxiters=2, axis=0, cenfunc="median", stdfunc="mad_std", masked=True
        )
    w = np.where(clipped.mask, 0.0, np.asarray(weights, dtype=float)[:, None, None])
    total = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.asarray(clipped.filled(0.0), dtype=float) * w).sum(axis=0) / total
    mean[total == 0] = np.nan
    return mean, (~clipped.mask).sum(axis=0).astype(np.int16)
