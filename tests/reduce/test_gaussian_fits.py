"""Gaussian fits of many stars at once: photutils' estimators (``centroid_2dg``, ``fit_fwhm``), star by star."""

import warnings

import numpy as np
import pytest
from photutils.centroids import centroid_2dg, centroid_sources
from photutils.psf import fit_fwhm

from astropipe.reduce.gaussian_fits import (
    FWHM_PER_SIGMA,
    _levenberg_marquardt,
    _StarBoxes,
    gaussian_centroids,
    gaussian_fwhms,
)
from astropipe.simulate.psf import render_stars

BOX = 11


@pytest.fixture(scope="module")
def field():
    """40 isolated Moffat stars (FWHM 4 px) on a grid, noise, a row of bad pixels through some of them, and
    starting positions 1 px off."""
    rng = np.random.default_rng(5)
    x, y = (
        axis.ravel() + rng.uniform(-0.5, 0.5, 40)
        for axis in np.meshgrid(np.arange(8) * 30.0 + 20, np.arange(5) * 30.0 + 20)
    )
    flux = 10 ** rng.uniform(3.0, 5.0, 40)
    image = render_stars((170, 260), x, y, flux, 4.0, 3.0) + rng.normal(0.0, 3.0, (170, 260))
    image[80, 40:200] = np.nan
    return image, x, y, x + rng.normal(0.0, 0.7, 40), y + rng.normal(0.0, 0.7, 40)


def test_centroids_are_photutils_centroid_2dg(field):
    image, x, y, x_start, y_start = field
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = centroid_sources(image, x_start, y_start, box_size=BOX, centroid_func=centroid_2dg)
    found = gaussian_centroids(image, x_start, y_start, BOX)
    np.testing.assert_allclose(found, expected, atol=1e-4)
    assert np.median(np.hypot(found[0] - x, found[1] - y)) < 0.05  # and they are on the stars


def test_fwhms_are_photutils_fit_fwhm(field):
    image, _, _, x_start, y_start = field
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.asarray(fit_fwhm(image, xypos=np.column_stack([x_start, y_start]), fwhm=3.0, fit_shape=13))
    found = gaussian_fwhms(image, x_start, y_start, 13, 3.0)
    np.testing.assert_allclose(found, expected, atol=1e-4)
    # the same stars drawn as Gaussians of FWHM 4 px (a Moffat of beta = 200) sampled at the pixel centres: a
    # pixel-integrated Gaussian fitted to them has sigma^2 + 1/12 px^2 = (4 / 2.3548)^2
    gaussian = render_stars(image.shape, *field[1:3], np.full(40, 1e4), 4.0, 200.0)
    expected = FWHM_PER_SIGMA * np.sqrt((4.0 / FWHM_PER_SIGMA) ** 2 - 1.0 / 12.0)
    assert np.median(gaussian_fwhms(gaussian, x_start, y_start, 13, 3.0)) == pytest.approx(expected, rel=0.003)


def test_boxes_without_a_star_give_nan_and_partial_boxes_are_fitted():
    image = render_stars((40, 40), np.array([1.2]), np.array([20.3]), np.array([1e4]), 3.0, 3.0)
    image[:, 30:] = np.nan
    x, y = gaussian_centroids(image, [1.0, 35.0], [20.0, 20.0], 7)
    assert x[0] == pytest.approx(1.2, abs=0.02) and y[0] == pytest.approx(20.3, abs=0.02)  # cut by the edge
    assert np.isnan(x[1]) and np.isnan(y[1])  # all pixels bad
    assert np.isnan(gaussian_fwhms(np.zeros((20, 20)), [10.0], [10.0], 7, 3.0)[0])  # a constant box


def test_a_position_off_the_image_is_refused():
    with pytest.raises(ValueError, match=r"star position \(45.0, 3.0\) is not on the 40 x 20 image"):
        gaussian_centroids(np.ones((20, 40)), [3.0, 45.0], [3.0, 3.0], 7)


def test_a_box_whose_model_goes_flat_has_no_fit_and_the_others_are_fitted():
    """A batch of straight-line fits a + b x, one of them started where its model is flat (every derivative 0, as
    for a Gaussian whose centre stepped far out of its box): its normal matrix is singular, which fails a stacked
    solve; that box gets NaN and the others their least-squares lines."""
    xx = np.arange(9, dtype=float)
    yy = np.zeros(9)
    values = np.vstack([2.0 + 0.5 * xx, 1.0 - 0.25 * xx, np.ones(9)])
    boxes = _StarBoxes(values, np.ones_like(values), xx, yy, np.zeros(3, int), np.zeros(3, int))

    def line(parameters):
        live = (np.abs(parameters[:, 1]) < 1e6).astype(float)[:, None]
        current = live * (parameters[:, :1] + parameters[:, 1:] * xx[None, :])
        jacobian = live[:, :, None] * np.stack([np.ones_like(current), np.broadcast_to(xx, current.shape)], axis=-1)
        return current, jacobian

    start = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 1e7]])
    fitted = _levenberg_marquardt(boxes, start, np.ones(3, bool), line)
    np.testing.assert_allclose(fitted[:2], [[2.0, 0.5], [1.0, -0.25]], atol=1e-6)
    assert np.all(np.isnan(fitted[2]))
