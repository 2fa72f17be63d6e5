"""Gas and dust indicators of a candidate field, and the bright-star content of its overdensity.

* Nebulosity: the median surface brightness of the star-free pixels of the
  stack (every catalogue star masked out to ``mask_radius``) within
  ``inner_radius`` of the candidate, minus the same in the background ring, in
  units of the per-pixel noise there. Extended emission shows as a positive
  excess; the sky subtraction of a dithered sequence removes part of it, never
  all of it.
* Dark cloud: the star density in a ring around the candidate over the
  background density; a cloud behind a young cluster hides the bulge stars
  (ratio well below 1).
* Bright stars: stars brighter than ``bright_mag`` within ``bright_radius``
  beyond the background expectation. A blend of a few bright stars has this
  excess and no excess of fainter stars; a cluster has both.
* Light concentration: the flux in a small aperture on the candidate,
  compared with the same aperture at random positions of the same image; the
  fraction of random apertures at least as bright is a p-value that does not
  depend on detecting (possibly saturated) bright stars one by one.
"""

from __future__ import annotations

import numpy as np
from astropy.stats import mad_std
from numpy.typing import NDArray

__all__ = ["light_concentration", "nebulosity", "star_mask"]


def star_mask(
    shape: tuple[int, int], x: NDArray[np.float64], y: NDArray[np.float64], radius_px: float
) -> NDArray[np.bool_]:
    """True within ``radius_px`` of any of the given stars."""
    mask = np.zeros(shape, dtype=bool)
    r = int(np.ceil(radius_px))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disc = xx**2 + yy**2 <= radius_px**2
    ny, nx = shape
    for x0, y0 in zip(np.round(x).astype(int), np.round(y).astype(int), strict=True):
        ylo, yhi, xlo, xhi = max(0, y0 - r), min(ny, y0 + r + 1), max(0, x0 - r), min(nx, x0 + r + 1)
        if ylo >= yhi or xlo >= xhi:
            continue
        mask[ylo:yhi, xlo:xhi] |= disc[ylo - (y0 - r) : yhi - (y0 - r), xlo - (x0 - r) : xhi - (x0 - r)]
    return mask


def nebulosity(
    image: NDArray[np.float64],
    usable: NDArray[np.bool_],
    stars: NDArray[np.bool_],
    radius_arcsec: NDArray[np.float64],
    inner_radius: float,
    background_ring: tuple[float, float],
) -> tuple[float, float]:
    """(excess surface brightness in units of the background's per-pixel noise, excess in image units).

    Parameters
    ----------
    image : numpy.ndarray
        Sky-subtracted stack.
    usable, stars : numpy.ndarray of bool
        Covered pixels; pixels near catalogue stars (excluded).
    radius_arcsec : numpy.ndarray
        Distance of every pixel from the candidate (arcsec).
    inner_radius : float
        Radius of the region tested (arcsec).
    background_ring : (float, float)
        Inner and outer radius of the reference ring (arcsec).
    """
    free = usable & ~stars & np.isfinite(image)
    inner = free & (radius_arcsec < inner_radius)
    ring = free & (radius_arcsec >= background_ring[0]) & (radius_arcsec < background_ring[1])
    if inner.sum() < 100 or ring.sum() < 100:
        return float("nan"), float("nan")
    excess = float(np.median(image[inner]) - np.median(image[ring]))
    return excess / float(mad_std(image[ring])), excess


def light_concentration(
    image: NDArray[np.float64],
    usable: NDArray[np.bool_],
    centre: tuple[float, float],
    radius_px: float,
    rng: np.random.Generator,
    n_random: int = 500,
) -> tuple[float, float]:
    """(flux in the aperture on ``centre``, fraction of random usable apertures with at least that flux).

    Random apertures are centred on usable pixels at least one aperture
    radius from the image edge; NaN pixels count as zero flux.
    """
    ny, nx = image.shape
    r = int(np.ceil(radius_px))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disc = xx**2 + yy**2 <= radius_px**2
    filled = np.nan_to_num(image)

    def flux(x0: int, y0: int) -> float:
        return float(filled[y0 - r : y0 + r + 1, x0 - r : x0 + r + 1][disc].sum())

    cx, cy = int(round(centre[0])), int(round(centre[1]))
    if not (r <= cx < nx - r and r <= cy < ny - r):
        return float("nan"), float("nan")
    ys, xs = np.nonzero(usable[r : ny - r, r : nx - r])
    pick = rng.choice(xs.size, size=min(n_random, xs.size), replace=False)
    random_flux = np.array([flux(int(xs[i]) + r, int(ys[i]) + r) for i in pick])
    central = flux(cx, cy)
    return central, float(np.mean(random_flux >= central))
