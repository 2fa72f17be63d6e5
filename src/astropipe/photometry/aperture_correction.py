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
where the curve is well measured (r <= ``fit_limit``) and extrapolated. Its error
is that of the whole measurement over the stars resampled
(:func:`bootstrap_correction_error`): the radii of one curve share their stars.
"""

from __future__ import annotations

import numpy as np
from astropy.stats import mad_std
from numpy.typing import NDArray
from photutils.aperture import ApertureStats, CircularAnnulus, CircularAperture, aperture_photometry
from scipy.optimize import curve_fit

__all__ = [
    "bootstrap_correction_error",
    "extrapolated_correction",
    "growth_ratios",
    "median_curve",
]


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
        Inner and outer radius (pixels) of the local background annulus; default 1.1 to 1.4 times the
        largest radius.

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
    r_in, r_out = annulus if annulus is not None else (1.1 * radii[-1], 1.4 * radii[-1])
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
