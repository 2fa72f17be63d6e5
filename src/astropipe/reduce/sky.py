"""Sky subtraction from time-adjacent dithered frames (SOFI manual, Lidman et al. 2000).

The near-IR sky is bright and varies on minutes, so each frame's sky is the
median of its ``window`` nearest frames in time (not itself), each scaled to
unit level first so that the sky's variation in time does not bias the
median, with object pixels masked. The first pass masks only what stands out
in each frame; the second pass masks everything detected on the first stack
(projected back into each frame), which is what keeps a crowded field's
faint stars from raising the median and over-subtracting.
"""

from __future__ import annotations

import numpy as np
from astropy.stats import sigma_clipped_stats
from numpy.typing import NDArray
from scipy.ndimage import binary_dilation

__all__ = ["bright_pixel_mask", "frame_level", "median_of_frames", "running_sky"]


def frame_level(frame: NDArray[np.float64], mask: NDArray[np.bool_] | None = None) -> tuple[float, float]:
    """Sky level and noise of a frame from its unmasked finite pixels.

    The level is SExtractor's mode estimate 2.5 median - 1.5 mean of the
    sigma-clipped pixels (the median when the distribution is too skewed for
    it): in a crowded field the faint stars left unmasked skew the pixel
    distribution upwards, and the mode stays closer to the true sky than the
    median, which would over-subtract.
    """
    values = frame[np.isfinite(frame) & (True if mask is None else ~mask)]
    if values.size < 100:
        raise ValueError("too few unmasked pixels to measure the sky level")
    mean, median, std = sigma_clipped_stats(values, sigma=3.0, maxiters=5)
    level = 2.5 * median - 1.5 * mean if abs(mean - median) < 0.3 * std else median
    return float(level), float(std)


def median_of_frames(cube: NDArray[np.floating]) -> NDArray[np.floating]:
    """Per-pixel median along the first axis ignoring NaN; NaN where every frame is NaN.

    The same numbers as ``numpy.nanmedian(cube, axis=0)`` (the mean of the
    two middle values for an even count, in the cube's dtype), ~4x faster
    for the few frames of a sky window: numpy takes a masked-array path when
    the reduced axis is short.
    """
    ordered = np.sort(cube, axis=0)  # NaN sorts last
    count = np.isfinite(cube).sum(axis=0)
    low = np.take_along_axis(ordered, (np.maximum(count - 1, 0) // 2)[None], axis=0)[0]
    high = np.take_along_axis(ordered, (count // 2)[None], axis=0)[0]
    return np.where(count > 0, (low + high) / cube.dtype.type(2), np.nan).astype(cube.dtype)


def bright_pixel_mask(frame: NDArray[np.float64], nsigma: float = 3.0, grow: int = 2) -> NDArray[np.bool_]:
    """Pixels above the frame's level by ``nsigma`` noise, dilated by ``grow`` pixels."""
    level, noise = frame_level(frame)
    mask = np.nan_to_num(frame, nan=level) > level + nsigma * noise
    return binary_dilation(mask, iterations=grow) if grow > 0 else mask


def running_sky(
    frames: list[NDArray[np.float64]],
    masks: list[NDArray[np.bool_]],
    times: NDArray[np.float64],
    window: int,
    levels: NDArray[np.float64],
) -> list[NDArray[np.float64]]:
    """Sky image of every frame from its ``window`` nearest other frames in time.

    Parameters
    ----------
    frames : list of numpy.ndarray
        Dark-subtracted, flat-fielded frames (NaN on bad pixels).
    masks : list of numpy.ndarray of bool
        Object masks (True = not sky) in each frame's own pixel grid.
    times : numpy.ndarray
        Exposure times (e.g. MJD) ordering the frames.
    window : int
        Number of neighbouring frames combined (at least 2).
    levels : numpy.ndarray
        Each frame's sky level on its unmasked pixels (:func:`frame_level` of frame and mask; the
        reduction uses them again).

    Returns
    -------
    list of numpy.ndarray
        Sky per frame; pixels masked in every neighbour take the frame's level.
    """
    n = len(frames)
    if n < 3:
        raise ValueError(f"sky subtraction needs >= 3 frames, got {n}")
    window = max(2, min(window, n - 1))
    normalised = []
    for frame, mask, level in zip(frames, masks, levels, strict=True):
        image = frame / level
        image[mask] = np.nan
        normalised.append(image.astype(np.float32))
    skies = []
    for i in range(n):
        distance = np.abs(times - times[i]).astype(float)
        distance[i] = np.inf
        neighbours = np.argsort(distance, kind="stable")[:window]
        relative = median_of_frames(np.stack([normalised[j] for j in neighbours]))
        relative = np.where(np.isfinite(relative), relative, 1.0)
        # rescale to frame i's own level, measured on its own unmasked pixels
        own_level = frame_level(frames[i] / np.where(np.isfinite(relative), relative, 1.0), masks[i])[0]
        skies.append(own_level * relative.astype(float))
    return skies
