"""Registration of dithered frames: header offsets refined by cross-correlation and star matching.

The offset of frame i is the shift s (pixels) of the sky on the detector
relative to the reference frame (a sky point at x in the reference is at
x + s in frame i), the convention of ``ESO SEQ CUMOFFSETX/Y``. The header
value seeds a search of the cross-correlation peak within ``search`` pixels;
a parabola through the logarithm of the peak and its neighbours gives the
sub-pixel position (exact for a Gaussian-shaped peak). Finally the same
bright stars are centroided in both frames and the median displacement gives
the offset to ~0.01 pixel (:func:`refine_with_stars`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from photutils.detection import find_peaks

from astropipe.reduce.gaussian_fits import gaussian_centroids

__all__ = ["ReferenceStars", "RegistrationError", "prepare_for_correlation", "refine_offset", "refine_with_stars"]

#: most stars' displacements may scatter about their median before the registration is refused, pixels
MAX_SCATTER_PX = 0.5


class RegistrationError(ValueError):
    """A frame cannot be registered on the reference frame from its own stars."""


def prepare_for_correlation(image: NDArray[np.float64], noise: float) -> NDArray[np.float64]:
    """Sky-subtracted image with NaN -> 0, clipped to [0, 50 noise] so no single star dominates."""
    return np.clip(np.nan_to_num(image, nan=0.0), 0.0, 50.0 * noise)


def _parabola_peak(minus: float, centre: float, plus: float) -> float:
    """Vertex of the parabola through log values (exact for a Gaussian peak)."""
    values = (minus, centre, plus) if min(minus, centre, plus) <= 0 else tuple(np.log((minus, centre, plus)))
    denominator = values[0] - 2.0 * values[1] + values[2]
    return 0.0 if denominator == 0 else 0.5 * (values[0] - values[2]) / denominator


def refine_offset(
    reference: NDArray[np.float64], image: NDArray[np.float64], guess: tuple[float, float], search: int = 5
) -> tuple[float, float]:
    """Offset (dx, dy) of ``image`` relative to ``reference`` near ``guess``.

    Parameters
    ----------
    reference, image : numpy.ndarray
        Prepared images (:func:`prepare_for_correlation`) of the same shape.
    guess : (float, float)
        Offset from the headers, pixels.
    search : int
        Half-size of the search box around the guess, pixels.

    Returns
    -------
    (dx, dy) : tuple of float
    """
    ny, nx = reference.shape
    spectrum = np.conj(np.fft.rfft2(reference)) * np.fft.rfft2(image)
    correlation = np.fft.irfft2(spectrum, s=reference.shape)
    gx, gy = int(round(guess[0])), int(round(guess[1]))
    best, best_value = (gx, gy), -np.inf
    for dy in range(gy - search, gy + search + 1):
        for dx in range(gx - search, gx + search + 1):
            value = correlation[dy % ny, dx % nx]
            if value > best_value:
                best, best_value = (dx, dy), value
    bx, by = best
    if abs(bx - gx) == search or abs(by - gy) == search:
        raise RegistrationError(
            f"the cross-correlation peak lies at the edge of the {search}-pixel search box around the "
            f"header offset ({guess[0]:.1f}, {guess[1]:.1f}) px: the header offset is further off "
            f"than imaging.reduction.search_px, or the frame has no stars in common with the reference"
        )
    fx = _parabola_peak(correlation[by % ny, (bx - 1) % nx], best_value, correlation[by % ny, (bx + 1) % nx])
    fy = _parabola_peak(correlation[(by - 1) % ny, bx % nx], best_value, correlation[(by + 1) % ny, bx % nx])
    return bx + fx, by + fy


class ReferenceStars:
    """Bright unsaturated peaks of the registration reference, each centroided once.

    Every frame of a sequence is registered against the same reference, so its
    peaks are found once and a peak's centroid is computed the first time a
    frame uses it; which peaks a frame uses depends only on its offset (they
    must stay ``box`` pixels inside both frames). The result is the same, to the
    bit, as finding and centroiding them again for every frame.

    Parameters
    ----------
    reference : numpy.ndarray
        Sky-subtracted reference frame (NaN allowed).
    noise : float
        Its sky noise; peaks above 20 noise are used.
    box : int
        Centroiding box, pixels (odd).
    peak_max : float
        Peaks above this (saturated or non-linear stars) are not used.
    """

    def __init__(self, reference: NDArray[np.float64], noise: float, box: int = 11, peak_max: float = np.inf) -> None:
        self.image = np.nan_to_num(reference, nan=0.0)
        self.box = box
        peaks = find_peaks(self.image, threshold=20.0 * noise, box_size=11)
        if peaks is None:
            peaks = {"x_peak": [], "y_peak": [], "peak_value": []}
        usable = np.asarray(peaks["peak_value"], float) < peak_max
        self.x = np.asarray(peaks["x_peak"], float)[usable]
        self.y = np.asarray(peaks["y_peak"], float)[usable]
        self.peak = np.asarray(peaks["peak_value"], float)[usable]
        self._centroids: dict[int, tuple[float, float]] = {}

    def brightest(self, border: int, n_stars: int) -> NDArray[np.int64]:
        """Indices of the ``n_stars`` brightest peaks at least ``border`` pixels from every edge."""
        ny, nx = self.image.shape
        inside = (self.x >= border) & (self.x < nx - border) & (self.y >= border) & (self.y < ny - border)
        index = np.flatnonzero(inside)
        return index[np.argsort(-self.peak[index])][:n_stars]

    def centroids(self, index: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Gaussian centroids (pixels) of the peaks ``index``; NaN where the fit fails."""
        missing = [i for i in index.tolist() if i not in self._centroids]
        if missing:
            xc, yc = gaussian_centroids(self.image, self.x[missing], self.y[missing], self.box)
            self._centroids.update(zip(missing, zip(xc.tolist(), yc.tolist(), strict=True), strict=True))
        xy = np.array([self._centroids[i] for i in index.tolist()], dtype=float).reshape(-1, 2)
        return xy[:, 0], xy[:, 1]


def refine_with_stars(
    reference: ReferenceStars,
    image: NDArray[np.float64],
    offset: tuple[float, float],
    n_stars: int = 40,
) -> tuple[float, float]:
    """Offset from the median displacement of bright stars between the two frames.

    Parameters
    ----------
    reference : ReferenceStars
        The reference frame's peaks.
    image : numpy.ndarray
        Sky-subtracted frame to register (NaN allowed).
    offset : (float, float)
        Starting offset (e.g. from :func:`refine_offset`), pixels.
    n_stars : int
        Brightest peaks used.

    Returns
    -------
    (dx, dy) : tuple of float
        The refined offset.

    Raises
    ------
    RegistrationError
        If fewer than 3 stars are centroided in both frames near the starting offset, or if their
        displacements scatter by more than :data:`MAX_SCATTER_PX` (robust sigma) about the median:
        the registration would then rest on the header or on chance, not on the stars.
    """
    box = reference.box
    img = np.nan_to_num(image, nan=0.0)
    ny, nx = img.shape
    edge = box + int(np.ceil(max(abs(offset[0]), abs(offset[1])))) + 2
    index = reference.brightest(edge, n_stars)
    xr, yr = reference.centroids(index)
    xp, yp = xr + offset[0], yr + offset[1]
    on_image = np.isfinite(xp) & np.isfinite(yp) & (xp > box) & (xp < nx - box - 1) & (yp > box) & (yp < ny - box - 1)
    xr, yr, xp, yp = xr[on_image], yr[on_image], xp[on_image], yp[on_image]
    if xr.size:
        xi, yi = gaussian_centroids(img, xp, yp, box)
    else:
        xi = yi = np.array([])
    dx, dy = xi - xr, yi - yr
    good = np.isfinite(dx) & np.isfinite(dy) & (np.hypot(dx - offset[0], dy - offset[1]) < 1.5)
    if good.sum() < 3:
        raise RegistrationError(
            f"only {int(good.sum())} bright unsaturated stars were found in both frames near the "
            f"offset ({offset[0]:.1f}, {offset[1]:.1f}) px; at least 3 are needed"
        )
    median = np.array([np.median(dx[good]), np.median(dy[good])])
    scatter = 1.4826 * np.median(np.abs(np.column_stack([dx[good], dy[good]]) - median), axis=0)
    if np.max(scatter) > MAX_SCATTER_PX:
        raise RegistrationError(
            f"the {int(good.sum())} stars' displacements scatter by ({scatter[0]:.2f}, {scatter[1]:.2f}) px "
            f"about their median; more than {MAX_SCATTER_PX} px is not one offset"
        )
    return float(median[0]), float(median[1])
