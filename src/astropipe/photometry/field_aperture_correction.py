"""The aperture correction of one image's catalogue: which stars it is measured on, and the measurement.

The curve of growth's building blocks are in :mod:`astropipe.photometry.aperture_correction`; here they are
applied to the brightest clean stars of a PSF-photometry catalogue (Dutra et al. 2003, §3.1).
"""

from __future__ import annotations

import logging

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from astropipe.photometry.aperture_correction import (
    BACKGROUND_ANNULUS,
    FIT_LIMIT_FWHM,
    FITTED_PART_ANNULUS,
    bootstrap_correction_error,
    clear_of_blank_pixels,
    extrapolated_correction,
    growth_radii,
    growth_ratios,
    median_curve,
)
from astropipe.photometry.catalog import FLAG_SATURATED
from astropipe.photometry.psf_model import StampModel

__all__ = ["measure_aperture_correction"]

#: the stars: within this many magnitudes of the brightest usable one, at most this many;
#: and the seed of the bootstrap error (fixed: the same image gives the same error)
APERTURE_CORRECTION_RANGE_MAG = 1.0
APERTURE_CORRECTION_MAX_STARS = 100
APERTURE_CORRECTION_SEED = 2003


def measure_aperture_correction(
    residual: NDArray[np.float64],
    catalog: Table,
    psf: StampModel,
    aperture_radius_arcsec: float,
    pixel_scale: float,
    fwhm: float,
    log: logging.Logger,
) -> dict:
    """The correction from PSF to the standards' aperture, its error from resampling the stars.

    Measured on the brightest unflagged stars clear of saturated ones (none within 1.4 apertures) whose
    fitted part of the curve and its background annulus hold no blank pixel, those within
    ``APERTURE_CORRECTION_RANGE_MAG`` of the brightest, at most ``APERTURE_CORRECTION_MAX_STARS``, on the
    image with every other star subtracted: what is left of the background and of the neighbours'
    subtraction in the aperture is a fixed amount of light, the smaller a fraction the brighter the star.
    The curve measured out to the aperture (``curve_of_growth_ratio``, ``aperture_correction_direct_mag``)
    comes from those of them whose whole aperture and annulus hold none (NaN when fewer than three).
    """
    radius = aperture_radius_arcsec / pixel_scale
    fit_limit = FIT_LIMIT_FWHM * fwhm
    fitted_part_annulus = (FITTED_PART_ANNULUS[0] * fit_limit, FITTED_PART_ANNULUS[1] * fit_limit)
    flags = np.asarray(catalog["flags"])
    flux = np.asarray(catalog["flux"], float)
    usable = (flags == 0) & np.isfinite(flux) & (flux > 0)
    saturated = (flags & FLAG_SATURATED) > 0
    if saturated.any() and usable.any():  # no saturated star (badly subtracted core) inside the aperture
        near, _ = cKDTree(np.column_stack([catalog["x"][saturated], catalog["y"][saturated]])).query(
            np.column_stack([catalog["x"], catalog["y"]])
        )
        usable &= near > 1.4 * radius
    usable &= clear_of_blank_pixels(residual, catalog["x"], catalog["y"], fitted_part_annulus[1])
    failed = {"aperture_correction_mag": float("nan"), "aperture_correction_err_mag": float("nan")}
    if usable.sum() < 3:
        log.warning("aperture correction: fewer than 3 unflagged stars clear of saturated ones and blank pixels")
        return failed
    bright = usable & (flux >= flux[usable].max() * 10 ** (-0.4 * APERTURE_CORRECTION_RANGE_MAG))
    chosen = np.flatnonzero(bright)[np.argsort(-flux[bright])][:APERTURE_CORRECTION_MAX_STARS]
    if chosen.size < 3:
        chosen = np.flatnonzero(usable)[np.argsort(-flux[usable])][:3]
    x, y, flux = (np.asarray(catalog[c], float)[chosen] for c in ("x", "y", "flux"))
    isolated = residual + psf.image(residual.shape, x, y, flux)
    radii = growth_radii(radius)
    inner = radii[radii <= fit_limit]
    try:
        inner_ratios = growth_ratios(isolated, x, y, flux, inner, fitted_part_annulus)
        correction, beta = extrapolated_correction(inner, *median_curve(inner_ratios), fwhm, radius, fit_limit)
        rng = np.random.default_rng(APERTURE_CORRECTION_SEED)
        correction_err = bootstrap_correction_error(inner, inner_ratios, fwhm, radius, fit_limit, rng)
    except (ValueError, RuntimeError) as problem:
        log.warning("aperture correction: %s", problem)
        return failed
    n = len(inner_ratios)
    whole = clear_of_blank_pixels(residual, x, y, BACKGROUND_ANNULUS[1] * radius)
    ratio = np.full(radii.size, np.nan)
    if whole.sum() >= 3:
        ratio = median_curve(growth_ratios(isolated, x[whole], y[whole], flux[whole], radii))[0]
    direct = -2.5 * np.log10(ratio[-1]) if ratio[-1] > 0 else float("nan")
    log.info(
        "aperture correction to R = %.1f px: %.4f +- %.4f mag (%d stars; Moffat beta %.2f; direct %.4f from %d)",
        radius,
        correction,
        correction_err,
        n,
        beta,
        direct,
        int(whole.sum()),
    )
    return {
        "aperture_radius_px": float(radius),
        "aperture_correction_mag": correction,
        "aperture_correction_err_mag": correction_err,
        "aperture_correction_direct_mag": float(direct),
        "aperture_correction_n_stars": n,
        "curve_of_growth_beta": beta,
        "curve_of_growth_radii_px": [float(r) for r in radii],
        "curve_of_growth_ratio": [float(r) for r in ratio],
    }
