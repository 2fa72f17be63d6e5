"""The LambdaCDM expectation of a bulk flow: the window's closed form, its large-scale limit, the integral."""

import numpy as np
import pytest

from astropipe.flow.cosmic_variance import (
    WAVENUMBERS,
    CosmicVarianceModel,
    PairKernel,
    compare_with_lcdm,
    flow_window,
    maximum_likelihood_weights,
)
from astropipe.flow.geometry import unit_vectors


@pytest.mark.parametrize("k", [0.003, 0.03, 0.1])
def test_the_closed_form_angular_kernel_matches_a_direct_average_over_directions(k):
    rng = np.random.default_rng(0)
    position_n, position_m = rng.normal(size=3) * 60.0, rng.normal(size=3) * 60.0
    k_hat = rng.normal(size=(1_000_000, 3))
    k_hat /= np.linalg.norm(k_hat, axis=1)[:, None]
    direct = np.mean(
        (k_hat @ position_n)
        * (k_hat @ position_m)
        / np.linalg.norm(position_n)
        / np.linalg.norm(position_m)
        * np.cos(k * k_hat @ (position_n - position_m))
    )
    assert PairKernel.of([position_n, position_m])(k)[0] == pytest.approx(direct, abs=2e-3)


def test_the_pair_kernel_matches_the_closed_form_in_extended_precision_on_both_sides_of_its_series():
    """Pairs from nearly coincident to 200 Mpc/h apart, at k where some kA are below the series' 1e-2 and some above:
    the closed forms evaluated in long double (no cancellation at these kA) give the same f_nm."""
    rng = np.random.default_rng(2)
    positions = rng.normal(size=(30, 3)) * 60.0
    positions[1] = positions[0] + 1e-4  # a pair 1.7e-4 Mpc/h apart
    kernel = PairKernel.of(positions)
    a, b = positions[kernel.first].astype(np.longdouble), positions[kernel.second].astype(np.longdouble)
    r_a, r_b = np.sqrt((a**2).sum(axis=1)), np.sqrt((b**2).sum(axis=1))
    cos_alpha = (a * b).sum(axis=1) / (r_a * r_b)
    separation = np.sqrt(((a - b) ** 2).sum(axis=1))
    for k in (1e-4, 0.01, 1.0):
        x = k * separation
        j0 = np.sin(x) / x
        j2 = (3 / x**2 - 1) * np.sin(x) / x - 3 * np.cos(x) / x**2
        expected = cos_alpha * (j0 - 2 * j2) / 3 + r_a * r_b * (1 - cos_alpha**2) / separation**2 * j2
        assert np.any(x < PairKernel.SERIES_BELOW) and np.any(x > PairKernel.SERIES_BELOW)
        np.testing.assert_allclose(kernel(k), expected.astype(float), rtol=1e-7, atol=1e-12)
    matrix = kernel.matrix(kernel(0.01), PairKernel.SELF)
    np.testing.assert_array_equal(matrix, matrix.T)
    assert matrix[0, 0] == 1 / 3 and matrix[kernel.first[5], kernel.second[5]] == kernel(0.01)[5]


def _survey(n=40, seed=1):
    rng = np.random.default_rng(seed)
    r_hat = unit_vectors(rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n))))
    return r_hat, rng.uniform(3000.0, 12000.0, n), rng.uniform(300.0, 900.0, n)


def test_the_maximum_likelihood_window_is_a_third_of_the_identity_on_the_largest_scales():
    """An unbiased estimator recovers a uniform flow: W^2_ij(k -> 0) = delta_ij / 3."""
    r_hat, distance, error = _survey()
    weights = maximum_likelihood_weights(r_hat, error)
    np.testing.assert_allclose(weights @ r_hat, np.eye(3), atol=1e-12)
    window = flow_window(weights, r_hat * distance[:, None] / 100.0, [1e-6, 100.0])
    np.testing.assert_allclose(window[0], np.eye(3) / 3.0, atol=1e-9)
    # on small scales the pairs average out and only each object's own term, w_n w_n^T / 3, is left
    np.testing.assert_allclose(window[1], weights @ weights.T / 3.0, atol=0.02 * np.trace(window[1]))
    assert np.trace(window[1]) < 0.2 * np.trace(window[0])


def test_power_only_on_the_largest_scales_gives_the_field_velocity_dispersion(monkeypatch):
    """With P(k) confined to k << 1 / survey size the flow's covariance is the 1-D velocity variance times I."""
    spike = np.where(WAVENUMBERS < 3e-4, 1e9, 0.0)
    monkeypatch.setattr(CosmicVarianceModel, "power_and_growth", lambda self, k: (spike, 0.5))
    r_hat, distance, error = _survey()
    weights = maximum_likelihood_weights(r_hat, error)
    out = compare_with_lcdm(np.zeros(3), np.eye(3), weights, distance, r_hat)
    one_dimensional = (100.0 * 0.5) ** 2 / (2 * np.pi**2) * np.trapezoid(spike, WAVENUMBERS) / 3.0
    # k r ~ 0.03 at the largest k of the spike: the window is 1/3 to 3 parts in 10^4
    np.testing.assert_allclose(
        out["cosmic_covariance_kms2"], one_dimensional * np.eye(3), rtol=1e-3, atol=1e-3 * one_dimensional
    )
    assert out["chi2"] == 0.0 and out["p"] == pytest.approx(1.0)


def test_planck_lcdm_expects_a_few_hundred_km_s_in_a_smac_sized_volume():
    """Linear theory (Planck 2018, Eisenstein & Hu): the flow in a 3000-12000 km/s shell is ~ 100-300 km/s,
    far below the 630 km/s Hudson et al. (1999) measured; a measured 630 km/s with 180 km/s errors is unlikely."""
    r_hat, distance, error = _survey(n=56)
    weights = maximum_likelihood_weights(r_hat, error)
    vector = 630.0 * np.array([0.0, -1.0, 0.0])
    out = compare_with_lcdm(vector, 180.0**2 * np.eye(3), weights, distance, r_hat)
    assert 100.0 < out["expected_rms_kms"] < 300.0
    assert out["p"] < 0.05 and out["growth_rate"] == pytest.approx(0.3111**0.55, rel=1e-3)
