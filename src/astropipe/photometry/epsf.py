"""Empirical PSF from bright, unsaturated stars clear of brighter neighbours (photutils ``EPSFBuilder``)."""

from __future__ import annotations

import numpy as np
from astropy.nddata import NDData
from astropy.table import Table
from numpy.typing import NDArray
from photutils.psf import EPSFBuilder, extract_stars
from scipy.spatial import cKDTree

from astropipe.photometry.psf_model import PSFModel

__all__ = [
    "CLOSE_NEIGHBOUR_FWHM",
    "FAINTEST_PSF_STAR_RATIO",
    "FAINT_NEIGHBOUR_RATIO",
    "MAX_NEGATIVE_LOBE",
    "PHASE_SAMPLES",
    "bright_psf_stars",
    "build_epsf",
    "select_psf_stars",
]

#: deepest negative value an ePSF may have, as a fraction of its peak: a PSF is light; the noise and
#: crowding of a few dozen stamps leave dips of up to ~10 % in the wings of a poor but usable ePSF;
#: a dip of a quarter of the peak or more means photutils' iterations diverged
MAX_NEGATIVE_LOBE = 0.25
#: a PSF star's neighbours within the isolation radius: peaks at most this fraction of its own (2.5 mag
#: fainter) and none closer than ``CLOSE_NEIGHBOUR_FWHM`` FWHM (its core could not be told apart)
FAINT_NEIGHBOUR_RATIO = 0.1
CLOSE_NEIGHBOUR_FWHM = 1.5
#: faintest star of an ePSF build, as a fraction of the brightest one's peak (2.5 mag fainter), and the fewest
#: stars per sub-pixel phase of the oversampled grid it keeps regardless
FAINTEST_PSF_STAR_RATIO = 0.1
PHASE_SAMPLES = 3


def select_psf_stars(
    stars: Table,
    signal: NDArray[np.float64],
    fwhm: float,
    saturation: float,
    half_size: int,
    max_stars: int = 80,
    isolation_fwhm: float = 3.0,
) -> Table:
    """The PSF stars: bright, unsaturated, clear of brighter neighbours, on covered pixels; brightest first.

    DAOPHOT's rule (Stetson 1987, PASP 99, 191; the PSF stars of a crowded frame): a star qualifies when
    its peak is below 70 % of ``saturation``, its stamp (``half_size`` pixels each side) lies fully on
    covered pixels, no other detection within ``isolation_fwhm`` FWHM is brighter than
    ``FAINT_NEIGHBOUR_RATIO`` of its peak (2.5 mag fainter), and none lies within
    ``CLOSE_NEIGHBOUR_FWHM`` FWHM. The ePSF build clips such neighbours pixel by pixel, and the final
    ePSF is built with them subtracted (:func:`astropipe.photometry.pipeline.psf_photometry`).

    Requiring no neighbour at all within the isolation radius (whose size grows with the seeing) leaves
    few stars in a crowded field in poor seeing, and mostly faint ones: on simulated SOFI stacks of a
    bulge field at FWHM 7-8 px (2.2-2.4") 45-65 stars against 100-150 by this rule, too few for the
    residual test of :mod:`astropipe.photometry.psf_variation` to see the array's edge distortion, and the
    constant ePSF then left the stars near the top and bottom edges 0.04-0.16 mag faint.
    """
    ny, nx = signal.shape
    x, y = np.asarray(stars["x"], float), np.asarray(stars["y"], float)
    peak = np.asarray(stars["peak"], float)
    inside = (x > half_size + 1) & (x < nx - half_size - 2) & (y > half_size + 1) & (y < ny - half_size - 2)
    usable = inside & (peak < 0.7 * saturation) & (peak > 0)
    candidates = np.flatnonzero(usable & (_nearest_other(x, y) > CLOSE_NEIGHBOUR_FWHM * fwhm))
    brightest_neighbour = _brightest_within(x, y, peak, candidates, isolation_fwhm * fwhm)
    chosen = _covered(
        signal, x, y, half_size, candidates[brightest_neighbour <= FAINT_NEIGHBOUR_RATIO * peak[candidates]]
    )
    chosen = chosen[np.argsort(-peak[chosen])][:max_stars]
    return stars[chosen]


def bright_psf_stars(psf_stars: Table, oversampling: int = 2) -> Table:
    """Those of ``psf_stars`` whose peak is at least ``FAINTEST_PSF_STAR_RATIO`` of the brightest one's, and
    never fewer than the ``PHASE_SAMPLES`` x ``oversampling`` ** 2 brightest (when there are as many).

    The ePSF build averages stamps normalised to unit flux, whose noise and neighbours' light scale as one
    over the star's peak: a star 2.5 mag fainter than the brightest would carry 1 % of its weight in an
    optimally weighted mean, and in the build's clipped mean adds more noise than it averages out. In a
    crowded field in poor seeing the faint-neighbour rule of :func:`select_psf_stars` reached stars of a few
    counts whose stamps held stars 20-80 times brighter. The floor keeps enough stars to sample every
    sub-pixel phase of the oversampled grid when a few stars are far brighter than the rest.
    """
    peak = np.asarray(psf_stars["peak"], float)
    if peak.size == 0:
        return psf_stars
    order = np.argsort(-peak, kind="stable")
    keep = np.zeros(peak.size, dtype=bool)
    keep[order[: PHASE_SAMPLES * oversampling**2]] = True
    keep |= peak >= FAINTEST_PSF_STAR_RATIO * peak.max()
    return psf_stars[keep]


def _covered(
    signal: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64], half_size: int, which: NDArray
) -> NDArray[np.int64]:
    """Those of the detections ``which`` whose stamp (``half_size`` pixels each side) holds only finite pixels."""
    covered = []
    for i in which:
        xi, yi = int(round(x[i])), int(round(y[i]))
        if np.all(np.isfinite(signal[yi - half_size : yi + half_size + 1, xi - half_size : xi + half_size + 1])):
            covered.append(i)
    return np.array(covered, dtype=int)


def _nearest_other(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Distance from every detection to the nearest other one (pixels; inf for a lone detection)."""
    if x.size < 2:
        return np.full(x.size, np.inf)
    xy = np.column_stack([x, y])
    return cKDTree(xy).query(xy, k=2)[0][:, 1]


def _brightest_within(
    x: NDArray[np.float64], y: NDArray[np.float64], peak: NDArray[np.float64], which: NDArray[np.int64], radius: float
) -> NDArray[np.float64]:
    """For the detections ``which``: the brightest peak among the other detections within ``radius`` pixels
    (0 for none)."""
    brightest = np.zeros(which.size)
    if which.size == 0:
        return brightest
    xy = np.column_stack([x, y])
    for k, (i, within) in enumerate(zip(which, cKDTree(xy).query_ball_point(xy[which], radius), strict=True)):
        others = [j for j in within if j != i]
        if others:
            brightest[k] = peak[others].max()
    return brightest


def build_epsf(
    signal: NDArray[np.float64],
    psf_stars: Table,
    half_size: int,
    oversampling: int = 2,
    bad: NDArray[np.bool_] | None = None,
) -> tuple[PSFModel, NDArray[np.float64]]:
    """Build the ePSF; return the fast model and the oversampled ePSF image.

    Pixels marked ``bad`` (saturated ones: a neighbour's clipped core, or the hole its model leaves
    when subtracted) and uncovered ones get no weight in the build.

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
    ignored = ~np.isfinite(signal) if bad is None else ~np.isfinite(signal) | bad
    cutouts = extract_stars(NDData(np.nan_to_num(signal, nan=0.0), mask=ignored), positions, size=(size, size))
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
