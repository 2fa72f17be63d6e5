"""The aperture correction measured from the curve of growth (astropipe.photometry.aperture_correction), in a
crowded field where the neighbours' residual light differs between the fitted radii and the standards' radius,
and its error."""

import sys
from pathlib import Path

import numpy as np
import pytest

from astropipe.photometry.pipeline import psf_photometry
from astropipe.simulate.psf import moffat_enclosed_fraction, render_stars

sys.path.insert(0, str(Path(__file__).parent))
from test_fitting import BETA, FWHM, _bright_ratios, _synthetic  # the same synthetic fields as the fitter's tests


def test_the_aperture_corrected_flux_is_the_total_flux_in_a_crowded_field():
    """450 Moffat stars on 400 x 400 pixels (FWHM 5 px): the PSF fluxes are ~12 % above the total flux (the
    ePSF's footprint), and the correction to 5.2 arcsec brings them to the light inside it within 2 %. Its
    local background is measured just outside the fitted part of the curve (3 FWHM); measured beyond the
    standards' radius instead, the neighbours' residuals there left the corrected fluxes 8 % high."""
    image, x, y, flux = _synthetic(450)
    result = psf_photometry(image, fwhm_guess=FWHM, pixel_scale=0.145)
    ratio, _ = _bright_ratios(result, x, y, flux)
    corrected = np.median(ratio) * 10 ** (-0.4 * result.meta["aperture_correction_mag"])
    assert corrected == pytest.approx(moffat_enclosed_fraction(5.2 / 0.145, FWHM, BETA), abs=0.02)
    assert result.meta["curve_of_growth_beta"] == pytest.approx(BETA, abs=0.3)


def test_the_quoted_error_covers_the_correction_of_a_denser_field():
    """600 stars on 400 x 400 pixels (some 15 neighbours inside each star's 5.2 arcsec aperture): the correction
    is off by ~5 %, which the error from resampling the stars covers; the curve fit's own error (its radii
    share the stars) said 0.4 %."""
    image, x, y, flux = _synthetic(600, seed=11)
    result = psf_photometry(image, fwhm_guess=FWHM, pixel_scale=0.145)
    ratio, _ = _bright_ratios(result, x, y, flux)
    corrected = np.median(ratio) * 10 ** (-0.4 * result.meta["aperture_correction_mag"])
    error_mag = abs(2.5 * np.log10(corrected / moffat_enclosed_fraction(5.2 / 0.145, FWHM, BETA)))
    print(f"correction off by {error_mag:.3f} mag, quoted error {result.meta['aperture_correction_err_mag']:.3f}")
    assert error_mag < 2.0 * result.meta["aperture_correction_err_mag"] < 0.15


def _isolated_grid(flux: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    """49 isolated Moffat stars on a 7 x 7 grid (40 px apart) of 300 x 300 pixels, unit noise."""
    rng = np.random.default_rng(seed)
    grid_x, grid_y = np.meshgrid(np.arange(7) * 40.0 + 30.0, np.arange(7) * 40.0 + 30.0)
    x, y = grid_x.ravel() + rng.uniform(-0.5, 0.5, 49), grid_y.ravel() + rng.uniform(-0.5, 0.5, 49)
    return render_stars((300, 300), x, y, flux, FWHM, BETA) + rng.normal(0.0, 1.0, (300, 300)), x, y


def _corrected_ratio(result, x, y, flux) -> float:
    """Median aperture-corrected PSF flux over the true flux of the bright stars."""
    ratio, _ = _bright_ratios(result, x, y, flux)
    return float(np.median(ratio) * 10 ** (-0.4 * result.meta["aperture_correction_mag"]))


def test_the_correction_is_measured_on_the_stars_within_a_magnitude_of_the_brightest():
    """A grid of 49 isolated stars spread over 2.5 mag: the curve of growth takes the unflagged stars within
    1 mag of the brightest (their share of the background's residual light is smallest), and the corrected
    fluxes are the light inside 5.2 arcsec."""
    flux = 10 ** np.random.default_rng(5).uniform(3.0, 4.0, 49)
    image, x, y = _isolated_grid(flux, seed=5)
    result = psf_photometry(image, fwhm_guess=FWHM, pixel_scale=0.145)
    catalog = result.catalog[result.catalog["flags"] == 0]
    within = np.asarray(catalog["flux"]) >= 10**-0.4 * np.max(catalog["flux"])
    assert 3 <= within.sum() < len(catalog) and result.meta["aperture_correction_n_stars"] == within.sum()
    assert _corrected_ratio(result, x, y, flux) == pytest.approx(
        moffat_enclosed_fraction(5.2 / 0.145, FWHM, BETA), abs=0.01
    )


def test_a_lone_bright_star_does_not_leave_the_correction_to_one_star():
    """One star 2 mag brighter than the other 48: fewer than three stars lie within 1 mag of the brightest, so
    the curve of growth takes the three brightest, and the corrected fluxes are still the light inside
    5.2 arcsec."""
    flux = 10 ** np.random.default_rng(6).uniform(3.0, 3.5, 49)
    flux[24] = 10**4.3
    image, x, y = _isolated_grid(flux, seed=6)
    result = psf_photometry(image, fwhm_guess=FWHM, pixel_scale=0.145)
    assert result.meta["aperture_correction_n_stars"] == 3
    assert _corrected_ratio(result, x, y, flux) == pytest.approx(
        moffat_enclosed_fraction(5.2 / 0.145, FWHM, BETA), abs=0.01
    )
