"""Rendered stars hold their flux (astropipe.simulate.psf)."""

import numpy as np
import pytest
from photutils.aperture import CircularAperture, aperture_photometry

from astropipe.simulate.detector import DetectorModel, detector_maps, expose
from astropipe.simulate.psf import (
    FramePSF,
    moffat_enclosed_fraction,
    pixel_subsamples,
    render_field,
    render_stars,
)


def test_rendered_star_holds_its_flux():
    flux, fwhm, beta = 1e5, 5.0, 3.0
    image = render_stars((200, 200), np.array([90.3]), np.array([101.7]), np.array([flux]), fwhm, beta)
    assert image.sum() == pytest.approx(flux * moffat_enclosed_fraction(8 * fwhm * 1.0, fwhm, beta), rel=2e-3)
    # sampling at pixel centres (not integrating over pixels) matters only in the core
    for radius, tolerance in ((1.0, 1e-2), (2.0, 2e-3), (4.0, 2e-3)):
        measured = aperture_photometry(image, CircularAperture((90.3, 101.7), r=radius * fwhm))["aperture_sum"][0]
        assert measured == pytest.approx(flux * moffat_enclosed_fraction(radius * fwhm, fwhm, beta), rel=tolerance)


@pytest.mark.parametrize("fwhm", [1.1, 1.4, 1.69])
def test_a_core_narrower_than_two_pixels_is_averaged_over_each_pixel_and_holds_its_flux(fwhm):
    """Sampled at pixel centres alone, a 1.1-px star would gain or lose up to 7 % of its flux with its position in
    the pixel; averaged over n x n points per pixel (n = ceil(1.7 / FWHM)) it holds it to 0.3 %, circular or
    elongated, and its centroid is where it was put."""
    assert pixel_subsamples(fwhm) == int(np.ceil(1.7 / fwhm)) > 1 and pixel_subsamples(1.7) == 1
    for x0, y0 in ((50.0, 50.0), (50.5, 50.5), (50.25, 49.8)):
        single = render_stars((100, 100), np.array([x0]), np.array([y0]), np.array([1.0]), fwhm, 4.765)
        assert single.sum() == pytest.approx(moffat_enclosed_fraction(8 * fwhm, fwhm, 4.765), rel=3e-3)
        elongated = FramePSF(fwhm=fwhm, core_beta=4.765, ellipticity=0.1, angle=0.3)
        image = render_field((100, 100), np.array([x0]), np.array([y0]), np.array([1.0]), elongated)
        assert image.sum() == pytest.approx(1.0, abs=5e-3)
        yy, xx = np.indices(image.shape)
        assert (image * xx).sum() / image.sum() == pytest.approx(x0, abs=0.02)
        assert (image * yy).sum() / image.sum() == pytest.approx(y0, abs=0.02)


def test_injected_flux_recovered_by_aperture_photometry_on_a_noiseless_sky_frame():
    # defects are tested separately; here the aperture must see only good pixels
    model = DetectorModel(shape=(128, 128), hot_fraction=0.0, dead_fraction=0.0, bad_column=None)
    maps = detector_maps(model, np.random.default_rng(1))
    rate, fwhm, beta, dit, ndit = 2.0e4, 5.5, 3.0, 10.0, 3
    star = render_stars(model.shape, np.array([60.2]), np.array([70.6]), np.array([rate]), fwhm, beta)
    raw = expose(model, maps, star, dit, ndit, np.random.default_rng(2)).astype(float)
    dark = (model.dark_current + maps.dark_excess) * dit / model.gain
    response = maps.sky_response
    good = ~maps.bad
    calibrated = np.where(good, (raw - model.reset_level - dark) / np.where(good, response, 1.0), 0.0)
    aperture = CircularAperture((60.2, 70.6), r=6 * fwhm)
    mask = aperture.to_mask(method="center").to_image(model.shape) > 0
    measured = aperture_photometry(calibrated, aperture)["aperture_sum"][0] / dit
    expected = rate * moffat_enclosed_fraction(6 * fwhm, fwhm, beta)
    noise_adu = np.sqrt((expected * dit * model.gain + mask.sum() * model.read_noise**2) / ndit) / model.gain / dit
    assert measured == pytest.approx(expected, abs=4 * noise_adu + 2e-3 * expected)


def _moments(image, x0, y0, radius):
    yy, xx = np.indices(image.shape)
    w = image * (np.hypot(xx - x0, yy - y0) < radius)
    return (w * (xx - x0) ** 2).sum() / w.sum(), (w * (yy - y0) ** 2).sum() / w.sum()


@pytest.mark.parametrize("ellipticity", [0.0, 0.1])
def test_field_psf_holds_its_flux_with_the_halo(ellipticity):
    psf = FramePSF(fwhm=4.0, core_beta=4.765, halo_fraction=0.1, ellipticity=ellipticity, angle=0.4)
    image = render_field((400, 400), np.array([200.3]), np.array([199.6]), np.array([1.0e5]), psf)
    # the halo's light beyond 25 FWHM and the core's beyond its stamp: 2e-4 of the total
    assert image.sum() == pytest.approx(1.0e5, rel=5e-4)


def test_a_circular_field_psf_without_a_halo_is_the_single_moffat():
    x, y, flux = np.array([50.2, 120.9]), np.array([80.4, 33.3]), np.array([3.0e4, 900.0])
    single = render_stars((200, 200), x, y, flux, 4.5, 3.0)
    np.testing.assert_array_equal(render_field((200, 200), x, y, flux, FramePSF(fwhm=4.5)), single)


def test_field_psf_is_broadened_and_radially_elongated_towards_the_upper_and_lower_edges():
    e, broadening = 0.2, 0.2
    psf = FramePSF(fwhm=4.0, core_beta=4.765, edge_ellipticity=e, edge_broadening=broadening, edge_start=0.6)
    shape = (401, 401)
    centre = render_field(shape, np.array([200.0]), np.array([200.0]), np.array([1.0]), psf)
    edge = render_field(shape, np.array([200.0]), np.array([400.0]), np.array([1.0]), psf)
    edge = np.vstack([edge, edge[::-1][1:]])  # the star sits on the last row: mirror it to measure its moments
    cxx, cyy = _moments(centre, 200.0, 200.0, 40)
    exx, eyy = _moments(edge, 200.0, 400.0, 40)
    assert cyy / cxx == pytest.approx(1.0, abs=1e-3)
    # axes scaled by (1 + b) / sqrt(1 - e) along y and (1 + b) sqrt(1 - e) along x
    assert eyy / exx == pytest.approx(1.0 / (1.0 - e) ** 2, rel=0.03)
    assert np.sqrt(exx * eyy) / np.sqrt(cxx * cyy) == pytest.approx((1.0 + broadening) ** 2, rel=0.03)
