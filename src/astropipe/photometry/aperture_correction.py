"""Aperture correction from a curve of growth on bright stars (Dutra et al. 2003, §3.1, Stetson 1990's DAOGROW idea).

Each of the brightest stars is measured in apertures of growing radius on the
image with every *other* star subtracted (:func:`growth_ratios`); the ratio of
the aperture flux to the PSF-fitted flux, medianed over stars, is the curve of
growth (:func:`median_curve`). The
correction to the standards' aperture (R = 5.2 arcsec in the paper) is
apcorr = -2.5 log10(F_ap(R) / F_psf), so that m_ap(R) = m_psf + apcorr
(paper: |apcorr| = 0.115 mag in H, 0.080 in Ks).

In a crowded field a 5.2 arcsec aperture collects the residuals of many
neighbours, so the large-radius end of the measured curve is noisy. As in
DAOGROW, an analytic growth curve - here a Moffat profile's,
A (1 - (1 + r^2/alpha^2)^(1 - beta)) - is fitted
where the curve is well measured (r <= ``FIT_LIMIT_FWHM`` FWHM) and extrapolated. Its error
is that of the whole measurement over the stars resampled
(:func:`bootstrap_correction_error`): the radii of one curve share their stars.

The extrapolation misses whatever light lies beyond the Moffat curve: the
broad halo of scattered light of a real telescope. That halo term is measured
on the isolated standard stars, whose curve of growth is clean out to the
aperture (:func:`halo_term`, the standards' growth curves of Stetson 1990):
the light in the aperture over the Moffat curve fitted within the same
3 FWHM. The calibration adds it to each field's extrapolated correction.
"""

from __future__ import annotations

import numpy as np
from astropy.stats import mad_std
from numpy.typing import NDArray
from photutils.aperture import ApertureStats, CircularAnnulus, CircularAperture, aperture_photometry
from photutils.psf import fit_fwhm
from scipy.ndimage import distance_transform_edt
from scipy.optimize import curve_fit

__all__ = [
    "BACKGROUND_ANNULUS",
    "FITTED_PART_ANNULUS",
    "FIT_LIMIT_FWHM",
    "bootstrap_correction_error",
    "clear_of_blank_pixels",
    "extrapolated_correction",
    "growth_radii",
    "growth_ratios",
    "halo_term",
    "median_curve",
]

FIT_LIMIT_FWHM = 3.0  # the Moffat growth curve is fitted on radii up to this many FWHM
GROWTH_STEPS = 24  # radii of a curve of growth, from 1 pixel to the aperture
#: the local background's annulus around the largest aperture, in units of its radius
BACKGROUND_ANNULUS = (1.1, 1.4)
#: the local background's annulus of the fitted part of the curve, in units of ``FIT_LIMIT_FWHM`` FWHM: in a
#: crowded field the neighbours' residual light differs between 3 FWHM and the standards' radius
FITTED_PART_ANNULUS = (1.2, 1.6)


def growth_radii(aperture: float) -> NDArray[np.float64]:
    """The radii (pixels) of a curve of growth out to ``aperture`` pixels."""
    return np.linspace(1.0, aperture, GROWTH_STEPS)


def clear_of_blank_pixels(
    image: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64], radius: float
) -> NDArray[np.bool_]:
    """Whether each star's disk of ``radius`` pixels holds no blank (non-finite) pixel, such as a stack's
    unexposed border: the stars whose curve of growth and background annulus can be measured out to it.

    The array's edge itself does not count: photutils measures an aperture that runs over it on the
    overlap, as the aperture correction always has.
    """
    finite = np.isfinite(image)
    clearance = distance_transform_edt(finite) if not finite.all() else np.full(image.shape, np.inf)
    ny, nx = image.shape
    column = np.clip(np.round(np.asarray(x, float)).astype(int), 0, nx - 1)
    row = np.clip(np.round(np.asarray(y, float)).astype(int), 0, ny - 1)
    return clearance[row, column] > radius + 1.0


def growth_ratios(
    isolated: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    radii: NDArray[np.float64],
    annulus: tuple[float, float] | None = None,
) -> NDArray[np.float64]:
    """Each star's aperture-to-PSF flux ratio at each radius (rows: the stars whose apertures are covered).

    Parameters
    ----------
    isolated : numpy.ndarray
        Background-subtracted image with all stars except the measured ones
        subtracted; a local background is measured in an annulus around each star.
    x, y, flux : numpy.ndarray
        Positions and PSF fluxes of the measured stars.
    radii : numpy.ndarray
        Aperture radii, pixels.
    annulus : (float, float), optional
        Inner and outer radius (pixels) of the local background annulus; default ``BACKGROUND_ANNULUS``
        times the largest radius.

    Returns
    -------
    numpy.ndarray
        F_ap(r) / F_psf, shape (stars, radii).
    """
    positions = np.column_stack([x, y])
    apertures = [CircularAperture(positions, r=r) for r in radii]
    table = aperture_photometry(isolated, apertures)
    # local background from an annulus just outside the largest aperture (what remains of
    # the background estimate and of the neighbours' subtraction around each star)
    r_in, r_out = (
        annulus if annulus is not None else (BACKGROUND_ANNULUS[0] * radii[-1], BACKGROUND_ANNULUS[1] * radii[-1])
    )
    local = np.asarray(ApertureStats(isolated, CircularAnnulus(positions, r_in=r_in, r_out=r_out)).median, float)
    sums = np.column_stack(
        [np.asarray(table[f"aperture_sum_{i}"], float) - local * a.area for i, a in enumerate(apertures)]
    )
    ratios = sums / np.asarray(flux)[:, None]
    good = np.all(np.isfinite(ratios), axis=1)
    if good.sum() < 3:
        raise ValueError(f"curve of growth: only {int(good.sum())} stars with fully covered apertures (need >= 3)")
    return ratios[good]


def median_curve(ratios: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The stars' median ratio at each radius and its error (robust std / sqrt(n)); ``ratios`` as
    :func:`growth_ratios` returns them."""
    return np.median(ratios, axis=0), mad_std(ratios, axis=0) / np.sqrt(len(ratios))


def bootstrap_correction_error(
    radii: NDArray[np.float64],
    ratios: NDArray[np.float64],
    fwhm: float,
    aperture: float,
    fit_limit: float,
    rng: np.random.Generator,
    draws: int = 100,
) -> float:
    """Standard deviation (mag) of :func:`extrapolated_correction` over the stars resampled with replacement.

    The fit's own error treats the median curve's radii as independent; they share the same stars (and
    the same neighbours' residuals), so it understates what another choice of stars would give.
    ``ratios`` are the stars' curves (:func:`growth_ratios`) at ``radii``.
    """
    corrections = []
    for _ in range(draws):
        sample = ratios[rng.integers(0, len(ratios), len(ratios))]
        try:
            corrections.append(extrapolated_correction(radii, *median_curve(sample), fwhm, aperture, fit_limit)[0])
        except (ValueError, RuntimeError):  # a resample the Moffat curve cannot fit
            continue
    return float(np.std(corrections, ddof=1)) if len(corrections) >= draws // 2 else float("nan")


def _moffat_growth(radius, amplitude, alpha, beta):
    return amplitude * (1.0 - (1.0 + (radius / alpha) ** 2) ** (1.0 - beta))


def extrapolated_correction(
    radii: NDArray[np.float64],
    ratio: NDArray[np.float64],
    ratio_err: NDArray[np.float64],
    fwhm: float,
    aperture: float,
    fit_limit: float,
) -> tuple[float, float]:
    """Aperture correction to ``aperture`` from a Moffat growth curve fitted within ``fit_limit``.

    The growth curve A (1 - (1 + r^2/alpha^2)^(1 - beta)) is fitted with A,
    alpha and beta free on radii from FWHM/2 to ``fit_limit``, weighted by ``ratio_err``. Its error is
    :func:`bootstrap_correction_error`'s (the fit's covariance treats the radii as independent).

    Returns
    -------
    correction_mag, beta
        -2.5 log10 of the extrapolated ratio at ``aperture`` and the fitted Moffat index.
    """
    use = (radii <= fit_limit) & np.isfinite(ratio) & (radii >= 0.5 * fwhm)
    if use.sum() < 4:
        raise ValueError("curve of growth: fewer than 4 radii to fit")
    sigma = np.where(ratio_err[use] > 0, ratio_err[use], np.nanmedian(ratio_err[use]) + 1e-6)
    params, _ = curve_fit(
        _moffat_growth,
        radii[use],
        ratio[use],
        p0=(1.0, fwhm, 3.0),
        sigma=sigma,
        bounds=((0.5, 0.2 * fwhm, 1.2), (1.5, 5.0 * fwhm, 20.0)),
    )
    return float(-2.5 * np.log10(_moffat_growth(aperture, *params))), float(params[2])


def halo_term(
    image: NDArray[np.float64], x: float, y: float, aperture: float, mask: NDArray[np.bool_] | None = None
) -> tuple[float, float]:
    """Light of an isolated star in ``aperture`` beyond its Moffat growth curve fitted within 3 FWHM (mag).

    The star's curve of growth F(r) on :func:`growth_radii` is normalised to F(aperture); the Moffat curve of
    :func:`extrapolated_correction` is fitted on it exactly as on a crowded field (radii FWHM/2 to
    ``FIT_LIMIT_FWHM`` FWHM) and extrapolated to the aperture, F_M. The term is -2.5 log10(F(aperture) / F_M):
    0 for a Moffat star, negative when a halo of scattered light holds light the fit cannot see. Added to a
    field's extrapolated correction it gives the correction to the aperture.

    Parameters
    ----------
    image : numpy.ndarray
        Sky-subtracted image of the star (the sky from an annulus beyond ``aperture``).
    x, y : float
        The star's position, 0-based pixels.
    aperture : float
        Radius of the standards' aperture, pixels.
    mask : numpy.ndarray, optional
        Bad pixels, left out of every aperture.

    Returns
    -------
    term_mag, fwhm
        The halo term (mag) and the star's FWHM (pixels, a Gaussian fit as for a field's stars).
    """
    radii = growth_radii(aperture)
    table = aperture_photometry(image, [CircularAperture((x, y), r=r) for r in radii], mask=mask)
    flux = np.array([float(table[f"aperture_sum_{i}"][0]) for i in range(radii.size)])
    if not flux[-1] > 0:
        raise ValueError(f"non-positive flux {flux[-1]:.1f} in the aperture of the star at ({x:.1f}, {y:.1f})")
    curve = flux / flux[-1]
    # the Gaussian fit's box from the half-light radius (0.5-0.63 FWHM for Gaussian to Moffat beta = 3 stars)
    guess = 1.7 * float(np.interp(0.5, np.maximum.accumulate(curve), radii))
    half = int(np.ceil(2 * guess)) | 1
    fwhm = float(np.asarray(fit_fwhm(image, xypos=[(x, y)], fit_shape=2 * half + 1))[0])
    if not 0.5 < fwhm < aperture / FIT_LIMIT_FWHM:
        raise ValueError(f"FWHM {fwhm:.2f} px of the star at ({x:.1f}, {y:.1f}): expected 0.5 to aperture / 3")
    fit_limit = FIT_LIMIT_FWHM * fwhm
    inner = radii <= fit_limit
    correction, _ = extrapolated_correction(radii[inner], curve[inner], np.ones(inner.sum()), fwhm, aperture, fit_limit)
    return -correction, fwhm
