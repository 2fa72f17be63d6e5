"""Star-based registration of a dithered sequence: reference stars found and centroided once, or per frame.

Peer: photutils used directly for every frame - ``find_peaks`` on the
reference with the frame's border, then ``centroid_sources(...,
centroid_func=centroid_2dg)`` of the reference's and the frame's stars (what
:func:`astropipe.reduce.registration.refine_with_stars` did before
:class:`~astropipe.reduce.registration.ReferenceStars`). Ours: the reference's
peaks and centroids computed once per sequence, every frame's stars fitted together
(:func:`astropipe.reduce.gaussian_fits.gaussian_centroids`, the same estimator). The data:
``frames`` synthetic 1024 x 1024 frames of 600 Gaussian stars (FWHM 3.5 px) with Gaussian noise,
dithered by known sub-pixel offsets within +-30 px. Both must give the same offsets to 1e-4 px; the
offsets' error against the injected dithers is printed.

Run: python benchmarks/registration.py [frames]
"""

from __future__ import annotations

import sys
import time

import numpy as np
from photutils.centroids import centroid_2dg, centroid_sources
from photutils.detection import find_peaks

from astropipe.reduce.registration import ReferenceStars, refine_with_stars

SHAPE = (1024, 1024)
SIGMA_PX = 3.5 / 2.3548
NOISE = 5.0


def star_frame(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, flux: np.ndarray) -> np.ndarray:
    """Gaussian stars drawn in 15 x 15 stamps, plus white noise."""
    image = rng.normal(0.0, NOISE, SHAPE)
    for xc, yc, f in zip(x, y, flux, strict=True):
        ix, iy = int(round(xc)), int(round(yc))
        if not (8 <= ix < SHAPE[1] - 8 and 8 <= iy < SHAPE[0] - 8):
            continue
        yy, xx = np.mgrid[iy - 7 : iy + 8, ix - 7 : ix + 8]
        image[iy - 7 : iy + 8, ix - 7 : ix + 8] += (
            f / (2 * np.pi * SIGMA_PX**2) * np.exp(-((xx - xc) ** 2 + (yy - yc) ** 2) / (2 * SIGMA_PX**2))
        )
    return image


def peer_offset(
    reference: np.ndarray, image: np.ndarray, offset: tuple[float, float], n_stars: int = 40, box: int = 11
) -> tuple[float, float]:
    """The reference's peaks and centroids recomputed for this frame (photutils directly)."""
    edge = box + int(np.ceil(max(abs(offset[0]), abs(offset[1])))) + 2
    peaks = find_peaks(reference, threshold=20.0 * NOISE, box_size=11, border_width=edge)
    peaks = peaks[np.argsort(-np.asarray(peaks["peak_value"]))][:n_stars]
    xr, yr = centroid_sources(
        reference,
        np.asarray(peaks["x_peak"], float),
        np.asarray(peaks["y_peak"], float),
        box_size=box,
        centroid_func=centroid_2dg,
    )
    ny, nx = image.shape
    xp, yp = xr + offset[0], yr + offset[1]
    on = np.isfinite(xp) & np.isfinite(yp) & (xp > box) & (xp < nx - box - 1) & (yp > box) & (yp < ny - box - 1)
    xr, yr, xp, yp = xr[on], yr[on], xp[on], yp[on]
    xi, yi = centroid_sources(image, xp, yp, box_size=box, centroid_func=centroid_2dg)
    dx, dy = xi - xr, yi - yr
    good = np.isfinite(dx) & np.isfinite(dy) & (np.hypot(dx - offset[0], dy - offset[1]) < 1.5)
    return float(np.median(dx[good])), float(np.median(dy[good]))


def main() -> None:
    n_frames = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    rng = np.random.default_rng(2003)
    x, y = rng.uniform(-40, SHAPE[1] + 40, 600), rng.uniform(-40, SHAPE[0] + 40, 600)
    flux = 10 ** rng.uniform(3.0, 5.0, 600)
    dithers = np.vstack([[0.0, 0.0], rng.uniform(-30, 30, (n_frames - 1, 2))])
    frames = [star_frame(rng, x + dx, y + dy, flux) for dx, dy in dithers]
    guesses = [tuple(np.round(d)) for d in dithers[1:]]  # a correlation peak's integer part

    start = time.perf_counter()
    peer = np.array([peer_offset(frames[0], f, g) for f, g in zip(frames[1:], guesses, strict=True)])
    peer_time = time.perf_counter() - start
    start = time.perf_counter()
    stars = ReferenceStars(frames[0], NOISE)
    ours = np.array([refine_with_stars(stars, f, g) for f, g in zip(frames[1:], guesses, strict=True)])
    ours_time = time.perf_counter() - start
    difference = np.abs(ours - peer).max()
    if difference > 1e-4:
        raise SystemExit(f"the offsets differ from the per-frame photutils computation by {difference:.2g} px")
    error = np.abs(ours - dithers[1:]).max()
    print(
        f"{n_frames} frames of 1024 x 1024, 600 stars; offsets agree to {difference:.1g} px, max |error| {error:.4f} px"
    )
    print(f"ours (ReferenceStars): {ours_time:.2f} s; peer (photutils per frame): {peer_time:.2f} s")
    print(
        f"registration: frames/s {(n_frames - 1) / ours_time:.1f} vs photutils-per-frame "
        f"{(n_frames - 1) / peer_time:.1f}, ratio {peer_time / ours_time:.2f}"
    )


if __name__ == "__main__":
    main()
