"""Travel time, delay and refractive index against analytic limits; physical units."""

import astropy.units as u
import numpy as np
import pytest

from astropipe.lensing import (
    closest_approach,
    deflection_angle_quantity,
    refractive_index,
    refractive_index_newtonian,
    speed_from_kinetic_energy,
    time_delay,
    time_delay_joshi,
    time_delay_newtonian,
    travel_time,
)


def _weinberg_light_time(r, r0):
    """Weinberg (1972) eq. 8.7.4: light travel time to first order in M/r0 (M = 1)."""
    root = np.sqrt(r**2 - r0**2)
    return root + 2.0 * np.log((r + root) / r0) + np.sqrt((r - r0) / (r + r0))


def test_light_travel_time_matches_weinberg_to_first_order():
    r = 1e7
    errors = []
    for b in (1e3, 1e4, 1e5):
        r0 = b / closest_approach(b, 1.0)
        errors.append(abs(travel_time(r, b, 1.0) - _weinberg_light_time(r, r0)))
    # the difference is second order, O(M^2 / r0) in time: it falls ~10x per decade of b
    assert errors[1] < errors[0] / 5 and errors[2] < errors[1] / 5
    assert errors[1] < 1e-2


def test_slow_particle_delay_is_newtonian():
    v, b, r = 1e-3, 1e7, 1e9  # M/(b v^2) = 0.1: strongly bent, but non-relativistic
    exact = time_delay(r, r, b, v)
    newton = time_delay_newtonian(r, r, b, v)
    assert exact < 0  # sped up by the attraction
    assert exact == pytest.approx(newton, rel=1e-3)


def test_joshi_delay_has_the_wrong_sign_for_slow_particles():
    v, b, r = 0.05, 1e4, 1e8
    assert time_delay(r, r, b, v) < 0 < time_delay_joshi(r, r, b, v)


def test_delay_of_light_is_shapiro():
    b, r = 1e4, 1e8
    # Shapiro delay relative to the straight chord: 2M ln(4 r^2 / b^2) + O(M)
    assert time_delay(r, r, b, 1.0) == pytest.approx(2 * np.log(4 * r**2 / b**2), abs=3.0)


def test_travel_time_inside_closest_approach_is_an_error():
    with pytest.raises(ValueError, match="inside the closest approach"):
        travel_time(50.0, 100.0, 0.5)


def test_refractive_index_limits():
    r = np.geomspace(10.0, 1e8, 5)
    np.testing.assert_allclose(refractive_index(r, 1.0), 1.0)
    np.testing.assert_allclose(refractive_index(r, 1e-4), refractive_index_newtonian(r, 1e-4), rtol=1e-7)
    assert refractive_index(1e12, 0.3) == pytest.approx(1.0, abs=1e-10)
    assert np.all(np.diff(refractive_index(r, 0.3)) > 0)
    with pytest.raises(ValueError, match="horizon"):
        refractive_index(1.5, 0.5)


def test_neutrino_speed_and_deflection_at_the_solar_limb():
    v = speed_from_kinetic_energy(1 * u.MeV, 0.1 * u.eV)
    # gamma = 1e7: 1 - v = 1/(2 gamma^2)
    assert 1 - v == pytest.approx(0.5e-14, rel=1e-2)
    light = deflection_angle_quantity(1 * u.R_sun, 1 * u.M_sun, v=1.0)
    neutrino = deflection_angle_quantity(1 * u.R_sun, 1 * u.M_sun, kinetic_energy=1 * u.MeV, particle_mass=0.1 * u.eV)
    assert neutrino.to_value(u.arcsec) == pytest.approx(light.to_value(u.arcsec), rel=1e-12)
    slow = speed_from_kinetic_energy(1 * u.eV, 1 * u.MeV)
    assert slow == pytest.approx(np.sqrt(2e-6), rel=1e-6)


def test_units_are_checked():
    with pytest.raises(u.UnitsError, match="lens mass"):
        deflection_angle_quantity(1 * u.km, 1 * u.km, v=0.5)
    with pytest.raises(ValueError, match="either v"):
        deflection_angle_quantity(1 * u.R_sun, 1 * u.M_sun)
