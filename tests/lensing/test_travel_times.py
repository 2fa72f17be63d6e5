"""Travel time and delay against analytic limits (astropipe.lensing.travel_times)."""

import numpy as np
import pytest

from astropipe.lensing import (
    closest_approach,
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
