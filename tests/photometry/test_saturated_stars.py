"""Saturated stars (astropipe.photometry.saturated_stars): one star per saturated core, measured on its
wings; and the residual passes' threshold (astropipe.photometry.subtraction_error). How many detections of
the default simulated night match no injected star: tests/workflow/test_object11_analysis.py."""

import functools

import numpy as np
import pytest
from scipy.spatial import cKDTree

from astropipe.photometry.pipeline import psf_photometry
from astropipe.photometry.psf_model import PSFModel
from astropipe.photometry.saturated_stars import SaturatedCores
from astropipe.photometry.settings import PhotometrySettings
from astropipe.photometry.subtraction_error import outskirt_scatter, subtraction_error
from astropipe.simulate.psf import FramePSF, render_field

SOFI_LIKE = FramePSF(fwhm=5.0, core_beta=4.765, halo_fraction=0.1)  # a Kolmogorov core, 10 % in a halo
SATURATION = 2.0e4


def _field_with_saturated_stars():
    """300 stars of 200-20,000 counts on 500 x 500 pixels and four of 3-20 million, clipped at 20,000.
    Returns the image, the stars' positions and fluxes, and the indices of the saturated four."""
    rng = np.random.default_rng(1)
    x, y = rng.uniform(5, 495, 300), rng.uniform(5, 495, 300)
    flux = 10 ** rng.uniform(2.3, 4.3, 300)
    bright_x, bright_y = np.array([120.0, 370.0, 130.0, 380.0]), np.array([130.0, 120.0, 380.0, 370.0])
    x, y = np.r_[x, bright_x], np.r_[y, bright_y]
    flux = np.r_[flux, 3e6, 1e7, 5e6, 2e7]
    image = render_field((500, 500), x, y, flux, SOFI_LIKE) + rng.normal(0.0, 1.0, (500, 500))
    return np.minimum(image, SATURATION), x, y, flux, np.arange(300, 304)


def _photometry(image):
    return psf_photometry(image, fwhm_guess=5.0, pixel_scale=0.145, saturation=SATURATION - 1).catalog


@functools.cache
def _measured():
    """The catalogue of the field with saturated stars, and its truth."""
    image, x, y, flux, bright = _field_with_saturated_stars()
    return _photometry(image), x, y, flux, bright


def test_a_saturated_star_is_one_star_measured_on_its_wings():
    """The four saturated stars (cores 3.8-6.6 px in radius, FWHM 5.4 px) are each in the catalogue once,
    flagged, and 5-20 % below the flux scale of the unsaturated stars (the 32-px background mesh follows
    part of their halos). Fitted within the ordinary 1-FWHM radius, the brightest had no usable pixel: it
    came out as three pieces holding 39 % of its light, or not at all."""
    catalog, x, y, flux, bright = _measured()
    cx, cy, measured = (np.asarray(catalog[name], float) for name in ("x", "y", "flux"))
    distance, index = cKDTree(np.column_stack([cx, cy])).query(np.column_stack([x[bright], y[bright]]), k=2)
    assert np.all(distance[:, 0] < 1.0) and np.all(distance[:, 1] > 8.0)
    assert np.all(np.asarray(catalog["flags"])[index[:, 0]] & 1)
    nearest, star = cKDTree(np.column_stack([x, y])).query(np.column_stack([cx, cy]))
    unsaturated = (nearest < 0.5) & (flux[star] > 3000) & (np.asarray(catalog["flags"]) == 0)
    scale = np.median(measured[unsaturated] / flux[star[unsaturated]])
    ratio = measured[index[:, 0]] / flux[bright] / scale
    assert np.all((ratio > 0.75) & (ratio < 1.02))


def test_the_subtraction_error_is_the_profile_error_and_the_epsf_scatter_over_each_stamp():
    v = (np.arange(41) - 20) / 2.0
    gauss = np.exp(-(v[:, None] ** 2 + v[None, :] ** 2) / (2 * 2.0**2))
    noisy = gauss / gauss.sum() * 4 + np.random.default_rng(2).normal(0.0, 2e-4, gauss.shape)
    psf = PSFModel(noisy, oversampling=2)
    scatter = outskirt_scatter(psf)
    assert scatter == pytest.approx(2e-4, rel=0.15)
    model = np.zeros((80, 80))
    model[30, 30] = 500.0
    x, y, flux = np.array([30.2, 33.0]), np.array([29.9, 30.0]), np.array([1e5, 2e5])
    error = subtraction_error(psf, x[:1], y[:1], flux[:1], model, 0.05)
    assert error[30, 30] == pytest.approx(np.hypot(25.0, 1e5 * scatter))
    assert error[30 + psf.half, 30] == pytest.approx(1e5 * scatter)  # the stamp's edge
    assert error[31 + psf.half, 30] == 0.0 and error[30, 29 - psf.half] == 0.0  # beyond it
    both = subtraction_error(psf, x, y, flux, np.zeros_like(model), 0.05)
    assert both[30, 30] == pytest.approx(np.hypot(1e5, 2e5) * scatter)  # two stamps: in quadrature


def test_a_core_is_owned_by_the_star_nearest_its_centre_and_the_others_on_it_are_its_pieces():
    saturated = np.zeros((60, 60), bool)
    saturated[25:36, 25:36] = True  # centre (30, 30), radius 6.2 px
    cores = SaturatedCores.from_mask(saturated)
    x, y = np.array([33.0, 30.5, 27.0, 45.0]), np.array([30.0, 30.0, 28.0, 30.0])
    owner, pieces, core_of_star = cores.claim(x, y, fwhm=4.0)
    assert list(owner) == [1] and list(pieces) == [0, 2] and list(core_of_star) == [-1, 0, -1, -1]
    assert list(cores.claim(x[3:], y[3:], fwhm=4.0)[0]) == [-1]  # 15 px away: no star on it


def test_a_profile_error_outside_0_1_is_refused_with_the_setting_named():
    with pytest.raises(ValueError, match=r"profile_error = 1\.5: expected 0 <= value < 1"):
        PhotometrySettings(profile_error=1.5)
