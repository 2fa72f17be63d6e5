"""A frame's seeing: pixel-integrated Gaussian fits of its bright stars, all at once or one at a time.

Peer: ``photutils.psf.fit_fwhm`` (a ``PSFPhotometry`` fit of ``CircularGaussianPRF`` to each star in
turn, what :mod:`astropipe.reduce.frame_quality` called before). Ours:
:func:`astropipe.reduce.gaussian_fits.gaussian_fwhms`, the same model and box fitted to every star in
the same arrays. The data: a 1024 x 1024 frame of ``stars`` Gaussian stars (FWHM 3.5 px, sampled at
the pixel centres) with Gaussian noise, fitted in 13-pixel boxes from positions 0.5 px off. Both must give
the same FWHM to 1e-4 px for every star; best of three runs each.

Run: python benchmarks/frame_fwhm.py [stars]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
from photutils.psf import fit_fwhm

from astropipe.reduce.gaussian_fits import gaussian_fwhms

SHAPE = (1024, 1024)
FWHM_PX = 3.5
BOX = 13


def best_time(function, repeats: int = 3) -> tuple[float, np.ndarray]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    n_stars = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    rng = np.random.default_rng(2003)
    side = int(np.ceil(np.sqrt(n_stars)))
    grid = (np.arange(side) + 0.5) * (SHAPE[0] - 40) / side + 20  # isolated stars
    x, y = (axis.ravel()[:n_stars] + rng.uniform(-0.5, 0.5, n_stars) for axis in np.meshgrid(grid, grid))
    flux = 10 ** rng.uniform(3.5, 5.0, n_stars)
    sigma = FWHM_PX / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    yy, xx = np.indices(SHAPE)
    image = rng.normal(0.0, 5.0, SHAPE)
    for xc, yc, f in zip(x, y, flux, strict=True):
        window = (slice(int(yc) - 8, int(yc) + 9), slice(int(xc) - 8, int(xc) + 9))
        image[window] += (
            f / (2 * np.pi * sigma**2) * np.exp(-((xx[window] - xc) ** 2 + (yy[window] - yc) ** 2) / (2 * sigma**2))
        )
    x_start, y_start = x + rng.uniform(-0.5, 0.5, n_stars), y + rng.uniform(-0.5, 0.5, n_stars)

    def peer() -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xypos = np.column_stack([x_start, y_start])
            return np.asarray(fit_fwhm(image, xypos=xypos, fwhm=3.0, fit_shape=BOX), float)

    peer_time, expected = best_time(peer)
    ours_time, found = best_time(lambda: gaussian_fwhms(image, x_start, y_start, BOX, 3.0))
    difference = np.max(np.abs(found - expected))
    if not difference < 1e-4:
        raise SystemExit(f"gaussian_fwhms differs from photutils fit_fwhm by {difference:.2g} px")
    print(
        f"{n_stars} stars, FWHM {FWHM_PX} px; the FWHMs agree to {difference:.1g} px, median {np.median(found):.4f} px"
    )
    print(f"ours (gaussian_fwhms): {ours_time:.3f} s; peer (photutils fit_fwhm): {peer_time:.3f} s")
    print(
        f"frame_fwhm: stars/s {n_stars / ours_time:.0f} vs photutils-fit_fwhm {n_stars / peer_time:.0f}, "
        f"ratio {peer_time / ours_time:.1f}"
    )


if __name__ == "__main__":
    main()
