"""The calibrated catalogue of one field (astropipe.calibrate.field_catalogue) and the comparison with the
reference survey (astropipe.calibrate.reference_comparison.compare_with_reference)."""

import logging

import numpy as np
import pytest
from astropy.table import Table

from astropipe.calibrate.field_catalogue import aperture_correction, calibrated_catalogue
from astropipe.calibrate.reference_comparison import compare_with_reference

LOG = logging.getLogger("test")
SETTINGS = {"aperture_corrections": {}, "max_aperture_correction_err_mag": 0.03, "band_match_radius_arcsec": 0.5}
BAND = {
    "colour_term": 0.0,
    "zero_point_mag": 22.0,
    "extinction_mag_per_airmass": 0.0,
    "covariance": [[0.0, 0.0], [0.0, 0.0]],
    "rms_mag": 0.0,
    "halo_term_mag": 0.0,
    "halo_term_err_mag": 0.0,
}


def test_a_fixed_aperture_correction_wins_and_a_missing_or_uncertain_one_is_named():
    catalog = Table({"mag_inst": [1.0]}, meta={"aperture_correction_mag": -0.1, "aperture_correction_err_mag": 0.01})
    standards = {"halo_term_mag": -0.03, "halo_term_err_mag": 0.002, "halo_term_frames": 45}
    correction, error = aperture_correction(catalog, "H", SETTINGS, "h.ecsv", LOG, standards=standards)
    assert correction == pytest.approx(-0.13) and error == pytest.approx(np.hypot(0.01, 0.002))
    fixed = SETTINGS | {"aperture_corrections": {"H": -0.2}}
    assert aperture_correction(catalog, "H", fixed, "h.ecsv", LOG, standards={}) == (-0.2, 0.0)
    with pytest.raises(ValueError, match=r"cal\.json, bands\.H\.halo_term_mag, from 2 standard frames"):
        aperture_correction(
            catalog, "H", SETTINGS, "h.ecsv", LOG, standards={"halo_term_frames": 2}, standards_path="cal.json"
        )
    catalog.meta["aperture_correction_err_mag"] = 0.08
    with pytest.raises(
        ValueError,
        match=r"h\.ecsv: aperture correction -0\.100 \+- 0\.080 mag .* "
        r"imaging\.calibration\.aperture_corrections\.H",
    ):
        aperture_correction(catalog, "H", SETTINGS, "h.ecsv", LOG, standards=standards)


def _band_catalogue(mag: np.ndarray, dec_offset: float = 0.0) -> Table:
    n = mag.size
    return Table(
        {
            "ra": np.full(n, 266.0),
            "dec": -29.0 + np.arange(n) * 5 / 3600 + dec_offset,
            "x": np.arange(n) * 10.0,
            "y": np.zeros(n),
            "mag_inst": mag,
            "mag_inst_err": np.full(n, 0.01),
            "flags": np.zeros(n, int),
        },
        meta={"airmass": 1.2, "aperture_correction_mag": 0.0, "aperture_correction_err_mag": 0.0},
    )


def test_stars_are_matched_between_the_bands_and_calibrated_through_the_colour_system():
    calibration = {"bands": {"H": BAND, "Ks": BAND | {"zero_point_mag": 21.5}}}
    catalogs = {
        "H": _band_catalogue(np.array([-8.0, -7.0, -6.0, np.nan])),
        "Ks": _band_catalogue(np.array([-8.5, -7.7, -6.3]), dec_offset=0.2 / 3600),
    }
    out = calibrated_catalogue(catalogs, calibration, SETTINGS, paths={"H": "h", "Ks": "k"})
    assert len(out) == 3  # the star without an H magnitude has no match
    np.testing.assert_allclose(out["H"], [14.0, 15.0, 16.0])
    np.testing.assert_allclose(out["K"], [13.0, 13.8, 15.2])
    np.testing.assert_allclose(out["separation"], 0.2, atol=1e-6)
    with pytest.raises(ValueError, match=r"cal\.json: no transformation for band Ks"):
        calibrated_catalogue(
            catalogs, {"bands": {"H": BAND}}, SETTINGS, paths={"H": "h", "Ks": "k"}, calibration_path="cal.json"
        )


def test_a_reference_without_a_needed_column_is_named():
    reference = Table({"ra": [1.0], "dec": [1.0], "H": [10.0], "e_H": [0.02], "Ks": [9.5]})
    with pytest.raises(ValueError, match=r"ref\.ecsv: column 'e_Ks' missing \(need ra, dec, H, e_H, Ks, e_Ks\)"):
        compare_with_reference(Table(), reference, {}, reference_path="ref.ecsv")
