"""The fitting engine on synthetic stars: isolated, blended, and against photutils."""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from astropipe.photometry.fitting import fit_stars
from astropipe.photometry.pipeline import PhotometrySettings, psf_photometry
from astropipe.photometry.psf_model import PSFModel
from astropipe.simulate.psf import moffat_enclosed_fraction, render_stars

FWHM, BETA = 5.0, 3.0


def _moffat_psf():
    y, x = np.mgrid[-36:37, -36:37] / 2.0
    return PSFModel((1 + (x**2 + y**2) / (FWHM / (2 * np.sqrt(2 ** (1 / BETA) - 1))) ** 2) ** -BETA, 2)


def test_isolated_stars_recover_flux_and_position():
    rng = np.random.default_rng(3)
    n, shape = 400, (700, 700)
    x, y = rng.uniform(20, 680, n), rng.uniform(20, 680, n)
    d, _ = cKDTree(np.column_stack([x, y])).query(np.column_stack([x, y]), k=2)
    keep = d[:, 1] > 4 * FWHM
    x, y = x[keep], y[keep]
    flux = 10 ** rng.uniform(3, 4, x.size)
    psf = _moffat_psf()
    image = psf.image(shape, x, y, flux) + rng.normal(0, 1.0, shape)
    fit = fit_stars(image, np.ones(shape), psf, x + 0.3, y - 0.3, flux * 0.8, fit_radius=FWHM)
    assert fit.kept.all()
    # the quoted errors describe the scatter (pulls ~ unit normal), and positions are sub-0.1 px
    for fitted, true, error in ((fit.x, x, fit.x_err), (fit.y, y, fit.y_err), (fit.flux, flux, fit.flux_err)):
        pull = (fitted - true) / error
        assert abs(np.median(pull)) < 0.5 and 0.6 < np.std(pull) < 1.6
    assert np.max(np.abs(fit.x - x)) < 0.1


def test_blended_pair_is_fitted_jointly():
    psf = _moffat_psf()
    shape = (80, 80)
    x, y, flux = np.array([38.0, 38.0 + 0.8 * FWHM]), np.array([40.0, 40.3]), np.array([5000.0, 2500.0])
    image = psf.image(shape, x, y, flux) + np.random.default_rng(4).normal(0, 0.5, shape)
    fit = fit_stars(image, np.full(shape, 0.5), psf, x + np.array([0.5, -0.5]), y, np.array([3000.0, 3000.0]), fit_radius=FWHM)
    np.testing.assert_allclose(fit.flux, flux, rtol=0.02)
    np.testing.assert_allclose(fit.x, x, atol=0.05)


def _synthetic(n, seed=8, shape=(400, 400)):
    rng = np.random.default_rng(seed)
    x, y, flux = rng.uniform(5, 395, n), rng.uniform(5, 395, n), 10 ** rng.uniform(2.3, 4.3, n)
    image = render_stars(shape, x, y, flux, FWHM, BETA) + rng.normal(0, 1.0, shape)
    return image, x, y, flux


def _bright_ratios(result, x, y, flux):
    catalog = result.catalog
    distance, index = cKDTree(np.column_stack([x, y])).query(np.column_stack([catalog["x"], catalog["y"]]))
    bright = (distance < 0.5) & (flux[index] > 3000) & (catalog["flags"] == 0)
    return np.asarray(catalog["flux"])[bright] / flux[index[bright]], index[bright]


def test_aperture_corrected_flux_is_the_total_flux_at_moderate_crowding():
    image, x, y, flux = _synthetic(250)
    result = psf_photometry(image, fwhm_guess=FWHM, pixel_scale=0.145)
    ratio, _ = _bright_ratios(result, x, y, flux)
    corrected = np.median(ratio) * 10 ** (-0.4 * result.meta["aperture_correction_mag"])
    assert corrected == pytest.approx(moffat_enclosed_fraction(5.2 / 0.145, FWHM, BETA), abs=0.02)
    assert 1.4826 * np.median(np.abs(ratio - np.median(ratio))) < 0.02
    assert result.meta["curve_of_growth_beta"] == pytest.approx(BETA, abs=0.5)


def test_fast_engine_agrees_with_photutils_in_a_dense_field():
    """Same image, same ePSF pipeline: the engines agree to < 2 % in the median (photutils is the reference)."""
    image, x, y, flux = _synthetic(700)
    ratios = {}
    for engine in ("fast", "photutils"):
        result = psf_photometry(image, fwhm_guess=FWHM, pixel_scale=0.145, settings=PhotometrySettings(engine=engine))
        ratio, index = _bright_ratios(result, x, y, flux)
        ratios[engine] = dict(zip(index, ratio, strict=True))
        assert 1.4826 * np.median(np.abs(ratio - np.median(ratio))) < 0.05  # dense: neighbours dominate
    common = sorted(set(ratios["fast"]) & set(ratios["photutils"]))
    assert len(common) > 50
    difference = np.array([ratios["fast"][i] / ratios["photutils"][i] - 1 for i in common])
    assert abs(np.median(difference)) < 0.02
