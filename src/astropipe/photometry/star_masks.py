"""Masks of stars on an image, for the background mesh, and the pixel a star sits on."""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray
from scipy.ndimage import binary_dilation

__all__ = ["core_mask", "nearest_pixel", "wing_mask"]


def nearest_pixel(coordinate: NDArray[np.float64], size: int) -> NDArray[np.int64]:
    """Nearest pixel index along one axis, clipped to the image."""
    return np.clip(np.round(coordinate).astype(int), 0, size - 1)


def wing_mask(stars: Table, fwhm: float, rms: float, shape: tuple[int, int], beta: float = 3.0) -> NDArray[np.bool_]:
    """Mask each star out to the radius where a Moffat-like wing of its peak drops below rms / 2.

    r = alpha sqrt((peak / (rms/2))^(1/beta) - 1), clipped to [1.5, 4] FWHM; ``fwhm`` in pixels, ``rms`` in
    the units of ``stars["peak"]``, ``shape`` the image's.
    """
    alpha = fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
    peak = np.clip(np.asarray(stars["peak"], float), 0.0, None)
    radius = alpha * np.sqrt(np.clip((peak / (0.5 * rms)) ** (1.0 / beta) - 1.0, 0.0, None))
    radius = np.clip(radius, 1.5 * fwhm, 4.0 * fwhm)
    mask = np.zeros(shape, dtype=bool)
    yy, xx = np.ogrid[: shape[0], : shape[1]]
    for x0, y0, r in zip(np.asarray(stars["x"]), np.asarray(stars["y"]), radius.tolist(), strict=True):
        x_lo, x_hi = max(0, int(x0 - r)), min(shape[1], int(x0 + r) + 2)
        y_lo, y_hi = max(0, int(y0 - r)), min(shape[0], int(y0 + r) + 2)
        mask[y_lo:y_hi, x_lo:x_hi] |= (xx[:, x_lo:x_hi] - x0) ** 2 + (yy[y_lo:y_hi] - y0) ** 2 <= r * r
    return mask


def core_mask(x: NDArray[np.float64], y: NDArray[np.float64], fwhm: float, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Pixels within one FWHM of the given stars (the cores that subtraction leaves noisiest)."""
    mask = np.zeros(shape, dtype=bool)
    mask[nearest_pixel(y, shape[0]), nearest_pixel(x, shape[1])] = True
    return binary_dilation(mask, iterations=max(1, int(round(fwhm))))
