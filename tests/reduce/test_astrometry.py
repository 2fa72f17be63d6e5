"""Astrometric calibration: a pointing error of tens of arcsec and a rotation of a fraction of a degree
are recovered from a crowded star list matched against a shallower, partly different reference."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from astropipe.reduce.astrometry import AstrometryError, AstrometrySettings, fit_astrometry
from astropipe.simulate.observation import frame_wcs, reported_wcs

SHAPE = (1024, 1024)
SCALE = 0.145


def _field(seed, error_arcsec, rotation_deg, n_reference=400, n_detected=150, n_spurious=60):
    rng = np.random.default_rng(seed)
    truth = frame_wcs(SkyCoord(266.9, -28.9, unit="deg"), SCALE, SHAPE)
    xy = rng.uniform(-100, 1124, (n_reference, 2))
    reference = truth.pixel_to_world(xy[:, 0], xy[:, 1])
    on_image = np.flatnonzero(np.all((xy > 5) & (xy < 1019), axis=1))[:n_detected]
    detected = xy[on_image] + rng.normal(0.0, 0.1, (on_image.size, 2))  # centroid errors 0.015"
    detected = np.vstack([detected, rng.uniform(5, 1019, (n_spurious, 2))])  # stars fainter than the reference
    header = reported_wcs(truth, np.asarray(error_arcsec), rotation_deg)
    return truth, header, detected, reference


@pytest.mark.parametrize(("error", "rotation"), [((25.0, -18.0), 0.3), ((-4.0, 6.0), -0.5), ((40.0, 35.0), 0.0)])
def test_pointing_and_rotation_errors_are_recovered(error, rotation):
    truth, header, detected, reference = _field(1, error, rotation)
    solution = fit_astrometry(detected, reference, header, SCALE, AstrometrySettings(), SHAPE)
    grid = np.meshgrid(np.linspace(0, 1023, 5), np.linspace(0, 1023, 5))
    fitted, true = solution.wcs.pixel_to_world(*grid), truth.pixel_to_world(*grid)
    assert np.max(fitted.separation(true).to_value(u.arcsec)) < 0.02
    assert solution.n_matched >= 140 and solution.rms_arcsec < 0.03
    assert solution.header_rotation_error_deg == pytest.approx(rotation, abs=0.01)
    assert np.hypot(solution.header_error_east_arcsec, solution.header_error_north_arcsec) == pytest.approx(
        np.hypot(*error), abs=0.5
    )


def test_a_pointing_error_beyond_the_search_radius_is_refused():
    _, header, detected, reference = _field(2, (90.0, 0.0), 0.0, n_reference=60, n_detected=30)
    with pytest.raises(AstrometryError, match="stars match the reference catalogue"):
        fit_astrometry(detected, reference, header, SCALE, AstrometrySettings(), SHAPE)


def test_settings_are_checked_where_they_are_made():
    with pytest.raises(ValueError, match="match_radius_arcsec = 90"):
        AstrometrySettings(match_radius_arcsec=90.0)
