"""The photometry settings refuse impossible values where they are built (astropipe.photometry.pipeline)."""

import pytest

from astropipe.photometry.settings import PhotometrySettings


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"detection_nsigma": 0.0}, r"detection_nsigma = 0\.0: expected a positive number"),
        ({"passes": 0}, "passes = 0: expected an integer >= 1"),
        ({"psf_stars": 2.5}, r"psf_stars = 2\.5: expected an integer >= 1"),
        ({"merge_separation_fwhm": -0.1}, r"merge_separation_fwhm = -0\.1: expected >= 0"),
        ({"engine": "daophot"}, "engine = 'daophot': expected 'fast' or 'photutils'"),
    ],
)
def test_an_impossible_setting_is_named_with_what_was_expected(change, message):
    with pytest.raises(ValueError, match=message):
        PhotometrySettings(**change)


def test_the_configuration_builds_the_settings_and_ignores_other_keys():
    settings = PhotometrySettings.from_config({"passes": 2, "engine": "photutils", "fwhm_guess_arcsec": 0.8})
    assert (settings.passes, settings.engine) == (2, "photutils")
