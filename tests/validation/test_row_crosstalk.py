"""validation/row_crosstalk.py: the rows' offsets and the stars' aperture-flux changes between two stacks, on
synthetic stacks with a known stripe."""

import importlib.util

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS
from conftest import REPO

spec = importlib.util.spec_from_file_location("row_crosstalk", REPO / "validation" / "row_crosstalk.py")
row_crosstalk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(row_crosstalk)

SIZE, STRIPE_ROWS, STRIPE = 400, (104, 105, 106), 2.0  # adu/s on three rows of the other stack
IMAGING = {
    "night": "2002-07-04",
    "object": {"name": "object11"},
    "photometry": {"fwhm_guess_arcsec": 0.8},
    "simulation": {"zero_points": {"Ks": 22.35}, "extinction": {"Ks": 0.05}},
}


def _write_stack(results, image, wcs):
    directory = results / "imaging" / "2002-07-04" / "object11" / "Ks"
    directory.mkdir(parents=True)
    header = wcs.to_header()
    header["PIXSCALE"], header["AIRMASS"] = 0.145, 1.0
    fits.PrimaryHDU(image.astype(np.float32), header=header).writeto(directory / "stack.fits")
    fits.PrimaryHDU(np.ones_like(image, dtype=np.float32)).writeto(directory / "weight.fits")


def test_a_three_row_stripe_is_measured_in_the_rows_and_in_the_stars_on_it(tmp_path):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval, wcs.wcs.crpix, wcs.wcs.cdelt = [267.6, -28.9], [200.0, 200.0], [-0.145 / 3600, 0.145 / 3600]
    reference = np.random.default_rng(5).normal(0.0, 1.0, (SIZE, SIZE))
    other = reference.copy()
    other[list(STRIPE_ROWS)] += STRIPE
    _write_stack(tmp_path / "reference", reference, wcs)
    _write_stack(tmp_path / "other", other, wcs)
    # a star of K = 16.5 centred on the stripe, one of 17.5 (in no magnitude bin) far from it
    x, y = np.array([150.0, 250.0]), np.array([105.0, 300.0])
    ra, dec = wcs.pixel_to_world_values(x, y)
    truth = Table({"ra": ra, "dec": dec, "K": [16.5, 17.5]})
    true_flux = 10 ** (-0.4 * (16.5 - (22.35 - 0.05)))  # adu/s through the zero point and extinction at airmass 1
    changes = row_crosstalk.stack_changes(tmp_path / "reference", tmp_path / "other", truth, "Ks", IMAGING)
    share = len(STRIPE_ROWS) / SIZE
    assert changes["row_offset_max"] == pytest.approx(STRIPE, rel=1e-6)
    assert changes["row_offset_rms"] == pytest.approx(STRIPE * np.sqrt(share * (1 - share)), rel=1e-4)
    # the aperture (r = 0.8" / 0.145") overlaps the band |y - 105| <= 1.5 over 2 (h sqrt(r^2 - h^2) + r^2 asin(h / r));
    # the annulus' median is that of its pixels off the stripe, 0
    r, h = 0.8 / 0.145, 1.5
    overlap = 2 * (h * np.sqrt(r**2 - h**2) + r**2 * np.arcsin(h / r))
    assert changes["K16-17_median"] == pytest.approx(STRIPE * overlap / true_flux, rel=1e-3)
    assert changes["K16-17_over_5pc"] == 1.0
