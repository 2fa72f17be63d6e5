"""Reading an image reduced elsewhere: pixel scale from the WCS, gain and saturation from the header
or the configuration, and a clear error for what cannot be measured."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from astropipe.photometry.image_input import read_photometry_image


def _image(path, scale_arcsec=(0.3, 0.3), extra=None, celestial=True):
    wcs = WCS(naxis=2)
    if celestial:
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.crval = [266.4, -29.0]
        wcs.wcs.crpix = [10.0, 10.0]
        wcs.wcs.cdelt = [-scale_arcsec[0] / 3600.0, scale_arcsec[1] / 3600.0]
    header = wcs.to_header()
    header.update(extra or {})
    fits.PrimaryHDU(np.ones((20, 30), np.float32), header=header).writeto(path)
    return path


def test_the_pixel_scale_comes_from_the_wcs_and_the_gain_from_the_header(tmp_path):
    image = read_photometry_image(_image(tmp_path / "a.fits", extra={"GAIN": 4.2, "SATURATE": 9000.0}))
    assert image.pixel_scale == pytest.approx(0.3) and image.gain == 4.2 and image.saturation == 9000.0
    assert image.exposure is None and image.data.shape == (20, 30)


def test_configured_values_win_and_missing_ones_mean_unknown(tmp_path):
    path = _image(tmp_path / "a.fits", extra={"GAIN": 4.2})
    image = read_photometry_image(path, gain=2.0, saturation=500.0)
    assert (image.gain, image.saturation) == (2.0, 500.0)
    bare = read_photometry_image(_image(tmp_path / "b.fits"))
    assert bare.gain is None and bare.saturation == np.inf


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: _image(p, celestial=False), "no celestial WCS"),
        (lambda p: _image(p, scale_arcsec=(0.3, 0.4)), "pixels of 0.3000 x 0.4000 arcsec"),
    ],
    ids=["no WCS", "rectangular pixels"],
)
def test_an_image_that_cannot_be_measured_is_named(tmp_path, make, message):
    path = make(tmp_path / "bad.fits")
    with pytest.raises(ValueError, match=f"bad.fits: .*{message}"):
        read_photometry_image(path)


def test_an_exposure_map_of_another_shape_is_named(tmp_path):
    weight = tmp_path / "weight.fits"
    fits.PrimaryHDU(np.ones((10, 10), np.float32)).writeto(weight)
    with pytest.raises(ValueError, match=r"weight.fits: exposure map of shape \(10, 10\)"):
        read_photometry_image(_image(tmp_path / "a.fits"), weight)
