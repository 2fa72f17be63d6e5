"""Empirical PSF from bright, isolated, unsaturated stars (photutils ``EPSFBuilder``)."""

from __future__ import annotations

import numpy as np
from astropy.nddata import NDData
from astropy.table import Table
from numpy.typing import NDArray
from photutils.psf import EPSFBuilder, extract_stars
from scipy.spatial import cKDTree

from astropipe.photometry.psf_model import PSFModel

__all__ = ["MAX_NEGATIVE_LOBE", "build_epsf", "select_psf_stars"]

#: deepest negative value an ePSF may have, as a fraction of its peak: a PSF is light; the noise and
#: crowding of a few dozen stamps leave dips of up to ~10 % in the wings of a poor but usable ePSF;
#: a dip of a quarter of the peak or more means photutils' iterations diverged
MAX_NEGATIVE_LOBE = 0.25


def select_psf_stars(
    stars: Table,
    signal: NDArray[np.float64],
    fwhm: float,
    saturation: float,
    half_size: int,
    max_stars: int = 80,
    isolation_fwhm: float = 3.0,
) -> Table:
    """Bright stars with no detected neighbour within ``isolation_fwhm`` FWHM, peak below 70 % of saturation,
    whose stamp lies fully on covered pixels."""
    ny, nx = signal.shape
    x, y = np.asarray(stars["x"]), np.asarray(stars["y"])
    pairs = (
        cKDTree(np.column_stack([x, y])).query(np.column_stack([x, y]), k=2)[0][:, 1]
        if len(x) > 1
        else np.full(len(x), np.inf)
    )
    inside = (x > half_size + 1) & (x < nx - half_size - 2) & (y > half_size + 1) & (y < ny - half_size - 2)
    peak = np.asarray(stars["peak"])
    ok = inside & (pairs > isolation_fwhm * fwhm) & (peak < 0.7 * saturation) & (peak > 0)
    candidates = np.flatnonzero(ok)
    covered = []
    for i in candidates:
        xi, yi = int(round(x[i])), int(round(y[i]))
        stamp = signal[yi - half_size : yi + half_size + 1, xi - half_size : xi + half_size + 1]
        if np.all(np.isfinite(stamp)):
            covered.append(i)
    chosen = np.array(covered, dtype=int)
    chosen = chosen[np.argsort(-peak[chosen])][:max_stars]
    return stars[chosen]


def build_epsf(
    signal: NDArray[np.float64], psf_stars: Table, half_size: int, oversampling: int = 2
) -> tuple[PSFModel, NDArray[np.float64]]:
    """Build the ePSF; return the fast model and the oversampled ePSF image.

    The normalisation inherits any error of the background under the PSF
    stars; the aperture correction (:mod:`astropipe.photometry.aperture_correction`),
    measured with this ePSF on the brightest stars with a local annulus, absorbs it.

    Raises
    ------
    ValueError
        With fewer than 5 usable PSF stars, or when the built ePSF dips below
        ``-MAX_NEGATIVE_LOBE`` of its peak (photutils' iterations diverged).
    """
    if len(psf_stars) < 5:
        raise ValueError(f"only {len(psf_stars)} bright isolated unsaturated stars: cannot build an ePSF (need >= 5)")
    positions = Table({"x": psf_stars["x"], "y": psf_stars["y"]})
    size = 2 * half_size + 1
    cutouts = extract_stars(NDData(np.nan_to_num(signal, nan=0.0)), positions, size=(size, size))
    builder = EPSFBuilder(oversampling=oversampling, maxiters=8, progress_bar=False)
    epsf, _ = builder(cutouts)
    data = np.asarray(epsf.data, dtype=float)
    depth = -float(np.min(data)) / float(np.max(data))
    if depth > MAX_NEGATIVE_LOBE:
        raise ValueError(
            f"the ePSF built from {len(psf_stars)} stars dips to {-depth:.1%} of its peak (at most "
            f"-{MAX_NEGATIVE_LOBE:.0%} for a PSF): the build did not converge"
        )
    return PSFModel(data, oversampling), data
