"""Strong-deflection limit, Joshi's eq. 4, cross-sections, magnification, thin lens."""

import numpy as np
import pytest

from astropipe.lensing import (
    critical_impact_parameter,
    deflection_angle,
    differential_cross_section,
    einstein_radius,
    image_magnifications,
    image_positions,
    joshi_deflection,
    magnification_ratio,
    magnification_ratio_joshi,
    magnification_ratio_newtonian,
    newtonian_deflection,
    rutherford_cross_section,
    strong_deflection_angle,
    strong_deflection_coefficients,
    weak_field_deflection,
)


def test_strong_deflection_coefficients_for_light_are_bozzas():
    a_bar, b_bar = strong_deflection_coefficients(1.0)
    assert a_bar == pytest.approx(1.0, rel=1e-14)
    assert b_bar == pytest.approx(np.log(216 * (7 - 4 * np.sqrt(3))) - np.pi, rel=1e-12)


@pytest.mark.parametrize("v", [1.0, 0.6, 0.3, 0.05])
def test_exact_deflection_converges_to_strong_limit(v):
    b_c = critical_impact_parameter(v)
    eps = np.array([1e-3, 1e-5, 1e-7])
    error = np.abs(deflection_angle(b_c * (1 + eps), v) - strong_deflection_angle(b_c * (1 + eps), v))
    assert error[-1] < 1e-5
    assert np.all(np.diff(error) < 0)


def test_joshi_eq4_is_exact_to_first_order_and_misses_part_of_the_second():
    v = 0.3
    b = np.array([1e5, 1e6, 1e7])
    first = weak_field_deflection(b, v, order=1)
    # second-order coefficients (units of M^2/b^2): exact 3 pi (4 + v^2) / (4 v^2);
    # eq. 4 only pi / v^2, from the factor (1 + M^2 / b^2 v^2) multiplying phi_cl = pi/2 + ...
    second_exact = (deflection_angle(b, v) - first) * b**2
    second_joshi = (joshi_deflection(b, v) - first) * b**2
    np.testing.assert_allclose(second_exact, 3 * np.pi * (4 + v**2) / (4 * v**2), rtol=1e-3)
    np.testing.assert_allclose(second_joshi, np.pi / v**2, rtol=1e-3)


def test_general_cross_section_of_newtonian_orbit_is_rutherford():
    v, b = 0.1, np.geomspace(20.0, 1e4, 7)
    general = differential_cross_section(b, v, deflection=newtonian_deflection)
    rutherford = rutherford_cross_section(newtonian_deflection(b, v), v)
    np.testing.assert_allclose(general, rutherford, rtol=1e-8)


def test_exact_cross_section_approaches_rutherford_with_relativistic_strength():
    # far from the lens alpha ~ 2M(1+v^2)/(b v^2): Rutherford with k' = M(1+v^2)/(2v^2)
    v, b = 0.5, np.array([1e5, 1e6])
    exact = differential_cross_section(b, v)
    alpha = deflection_angle(b, v)
    k = (1 + v**2) / (2 * v**2)
    np.testing.assert_allclose(exact, k**2 / np.sin(alpha / 2) ** 4, rtol=1e-4)


def test_magnification_ratio_numerical_equals_newtonian_closed_form():
    rho, v, r_s = np.geomspace(200.0, 1e4, 5), 0.1, 1e3
    numerical = magnification_ratio(rho, v, 1.0, r_s, deflection=newtonian_deflection)
    np.testing.assert_allclose(numerical, magnification_ratio_newtonian(rho, v, 1.0, r_s), rtol=1e-8)


def test_joshi_eq12_agrees_with_eqs_10_11_to_leading_order():
    rho, v, r_s = np.array([1e4, 1e5, 1e6]), 0.1, 1e3
    t = 1.0 / (v**2 * rho)
    newton = magnification_ratio_newtonian(rho, v, 1.0, r_s)
    joshi = magnification_ratio_joshi(rho, v, 1.0, r_s)
    leading = 4 * t**2 * (r_s / rho) ** 2
    assert np.all(np.abs(newton - joshi) < 5 * t**2 * leading + 5 * t**5 * r_s / rho)


def test_thin_lens_images_solve_the_lens_equation_and_magnify_correctly():
    theta_e, beta = 1.3, np.array([0.1, 0.7, 2.5])
    plus, minus = image_positions(beta, theta_e)
    for theta in (plus, minus):
        np.testing.assert_allclose(theta - theta_e**2 / theta, beta, rtol=1e-12)
    mu_plus, mu_minus = image_magnifications(beta, theta_e)
    h = 1e-6
    for theta_fn, mu in (
        (lambda x: image_positions(x, theta_e)[0], mu_plus),
        (lambda x: image_positions(x, theta_e)[1], mu_minus),
    ):
        derivative = (theta_fn(beta + h) - theta_fn(beta - h)) / (2 * h)
        np.testing.assert_allclose(theta_fn(beta) / beta * derivative, mu, rtol=1e-6)
    u = beta / theta_e
    np.testing.assert_allclose(mu_plus - mu_minus, (u**2 + 2) / (u * np.sqrt(u**2 + 4)), rtol=1e-12)


def test_einstein_radius_light_and_massive_scaling():
    light = einstein_radius(1.0, 1.0, 1e10, 2e10)
    assert light == pytest.approx(np.sqrt(4.0 * 1e10 / (1e10 * 2e10)))
    v = 0.2
    assert einstein_radius(1.0, v, 1e10, 2e10) / light == pytest.approx(np.sqrt((1 + v**2) / (2 * v**2)))
    with pytest.raises(ValueError, match="distances"):
        einstein_radius(1.0, 1.0, 2e10, 1e10)
