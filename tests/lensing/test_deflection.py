"""Exact deflection: analytic limits, closed form against quadrature, capture, bad input."""

import astropy.units as u
import numpy as np
import pytest

from astropipe.lensing import (
    critical_impact_parameter,
    deflection_angle,
    deflection_angle_elliptic,
    deflection_angle_quantity,
    is_captured,
    newtonian_deflection,
    particle_sphere_radius,
    weak_field_deflection,
)


def test_light_first_order_limit_is_4m_over_b():
    b = np.array([1e5, 1e6, 1e7])
    alpha = deflection_angle(b, 1.0)
    # the remaining difference is the second-order term 15 pi / 4 (M/b)^2
    np.testing.assert_allclose(alpha / (4.0 / b) - 1.0, 15 * np.pi / 16 / b, rtol=1e-4)


def test_light_at_solar_limb_is_1_7512_arcsec():
    alpha = deflection_angle_quantity(6.957e8 * u.m, 1 * u.M_sun, v=1.0)
    assert alpha.to_value(u.arcsec) == pytest.approx(1.7512, abs=5e-5)


@pytest.mark.parametrize("v", [0.01, 0.05, 0.2, 0.5, 0.9, 1.0])
def test_quadrature_agrees_with_elliptic_closed_form(v):
    b_c = critical_impact_parameter(v)
    b = np.concatenate([b_c * np.array([1.01, 1.1, 2.0, 10.0]), [1e3, 1e5, 1e7, 1e8]])
    b = b[b > 1.01 * b_c * (1 - 1e-12)]
    quadrature = deflection_angle(b, v)
    closed_form = deflection_angle_elliptic(b, v)
    np.testing.assert_allclose(quadrature, closed_form, rtol=1e-10, atol=0)


def test_precision_kept_far_from_the_lens():
    # alpha ~ 4e-12: a naive 2 I - pi would keep only ~4 significant digits
    b = 1e12
    expected = weak_field_deflection(b, 1.0, order=3)
    assert deflection_angle(b, 1.0) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("v", [1.0, 0.5, 0.1])
def test_weak_field_series_error_shrinks_at_the_expected_order(order, v):
    # the series is in M / (b v^2): sample where that is small
    b = max(1.0, 1.0 / v**2) * np.array([100.0, 200.0, 400.0, 800.0])
    residual = np.abs(deflection_angle(b, v) - weak_field_deflection(b, v, order=order))
    slope = np.polyfit(np.log(b), np.log(residual), 1)[0]
    assert slope == pytest.approx(-(order + 1), abs=0.15)


def test_critical_impact_parameter_limits():
    assert critical_impact_parameter(1.0) == pytest.approx(3 * np.sqrt(3), rel=1e-15)
    v = np.array([1e-2, 1e-3, 1e-4])
    # b_c -> 4 M / v with a relative correction of order v^2
    assert np.all(np.abs(critical_impact_parameter(v) * v / 4.0 - 1.0) < v**2)
    assert critical_impact_parameter(0.5, mass=3.0) == pytest.approx(3 * critical_impact_parameter(0.5))


def test_particle_sphere_radius_limits():
    assert particle_sphere_radius(1.0) == pytest.approx(3.0, rel=1e-15)
    assert particle_sphere_radius(1e-4) == pytest.approx(4.0, rel=1e-7)


def test_capture_gives_nan_and_just_outside_is_finite():
    v = np.array([1.0, 0.3, 0.01])
    b_c = critical_impact_parameter(v)
    assert np.all(np.isnan(deflection_angle(b_c * 0.999, v)))
    assert np.all(np.isnan(deflection_angle(b_c, v)))
    assert np.all(is_captured(b_c * 0.5, v))
    outside = deflection_angle(b_c * (1 + 1e-6), v)
    assert np.all(np.isfinite(outside)) and np.all(outside > 2 * np.pi)


def test_slow_particle_limit_is_newtonian():
    # fixed Newtonian strength M / (b v^2) = 0.5 as v -> 0: GR corrections are O(v^2, M/b)
    v = np.array([1e-2, 1e-3, 1e-4])
    b = 1.0 / (0.5 * v**2)
    exact = deflection_angle(b, v)
    newton = newtonian_deflection(b, v)
    relative = np.abs(exact / newton - 1)
    assert np.all(relative < 10 * v**2)
    assert relative[-1] < relative[0]


def test_broadcasting_and_zero_mass():
    alpha = deflection_angle(np.array([[100.0], [1000.0]]), np.array([1.0, 0.5, 0.1]))
    assert alpha.shape == (2, 3)
    assert deflection_angle(10.0, 0.5, mass=0.0) == 0.0


@pytest.mark.parametrize(
    ("b", "v", "mass", "name"),
    [
        (10.0, 0.0, 1.0, "v"),
        (10.0, -0.5, 1.0, "v"),
        (10.0, 1.2, 1.0, "v"),
        (0.0, 0.5, 1.0, "b"),
        (-3.0, 0.5, 1.0, "b"),
        (10.0, 0.5, -1.0, "mass"),
        (np.nan, 0.5, 1.0, "b"),
        (10.0, np.nan, 1.0, "v"),
    ],
)
def test_bad_input_raises_clear_value_error(b, v, mass, name):
    with pytest.raises(ValueError, match=rf"^{name}"):
        deflection_angle(b, v, mass)
    with pytest.raises(ValueError, match=rf"^{name}"):
        critical_impact_parameter(v, mass) if name != "b" else deflection_angle_elliptic(b, v, mass)
