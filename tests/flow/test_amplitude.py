"""The amplitude's profile likelihood and lower limit against a brute-force minimisation over directions."""

import numpy as np
import pytest

from astropipe.flow.amplitude import LOWER_LIMIT_DELTA_CHI2, amplitude_lower_limit, amplitude_profile
from astropipe.flow.geometry import unit_vectors


def _brute_force_profile(vector, covariance, amplitude, n=400):
    """min over a dense grid of directions (refined once around the best) of chi^2 at |V| = amplitude."""
    inverse = np.linalg.inv(covariance)
    l_grid, b_grid = np.meshgrid(
        np.linspace(0, 360, 2 * n, endpoint=False), np.degrees(np.arcsin(np.linspace(-1, 1, n)))
    )
    best = None
    for _ in range(3):
        directions = unit_vectors(l_grid.ravel(), b_grid.ravel())
        residual = amplitude * directions - vector
        chi2 = np.einsum("ij,jk,ik->i", residual, inverse, residual)
        k = int(np.argmin(chi2))
        best = chi2[k] if best is None else min(best, chi2[k])
        l0, b0 = l_grid.ravel()[k], b_grid.ravel()[k]
        step = 360.0 / (2 * n)
        l_grid, b_grid = np.meshgrid(
            np.linspace(l0 - 3 * step, l0 + 3 * step, 61),
            np.linspace(max(b0 - 3 * step, -90), min(b0 + 3 * step, 90), 61),
        )
        n = 30
    return best


# the default survey's flow and an elongated covariance (axes 100, 150, 214 km/s as in the paper)
COVARIANCE = np.diag([100.0, 150.0, 214.0]) ** 2
ROTATION = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))[0]
COVARIANCE = ROTATION @ COVARIANCE @ ROTATION.T
VECTOR = 630.0 * unit_vectors(260.0, -1.0)[0]


@pytest.mark.parametrize("amplitude", [0.0, 150.0, 350.0, 500.0, 600.0])
def test_profile_matches_a_brute_force_minimum_over_directions(amplitude):
    expected = _brute_force_profile(VECTOR, COVARIANCE, amplitude)
    assert amplitude_profile(VECTOR, COVARIANCE, amplitude) == pytest.approx(expected, rel=2e-4, abs=1e-6)


def test_lower_limit_is_where_the_profile_reaches_2_71():
    limit = amplitude_lower_limit(VECTOR, COVARIANCE)
    assert 0 < limit < np.linalg.norm(VECTOR)
    assert amplitude_profile(VECTOR, COVARIANCE, limit) == pytest.approx(LOWER_LIMIT_DELTA_CHI2, rel=1e-9)
    assert _brute_force_profile(VECTOR, COVARIANCE, limit) == pytest.approx(LOWER_LIMIT_DELTA_CHI2, rel=1e-3)


def test_isotropic_errors_give_the_closed_form():
    """C = s^2 I: Delta chi^2(A) = (|V| - A)^2 / s^2, so the limit is |V| - 1.645 s."""
    sigma = 120.0
    limit = amplitude_lower_limit(VECTOR, sigma**2 * np.eye(3))
    assert limit == pytest.approx(630.0 - np.sqrt(LOWER_LIMIT_DELTA_CHI2) * sigma, rel=1e-10)


def test_a_flow_consistent_with_rest_has_no_lower_limit():
    assert amplitude_lower_limit(np.array([100.0, 0.0, 0.0]), 200.0**2 * np.eye(3)) == 0.0


def test_the_limit_removes_the_error_bias_of_the_percentile():
    """The old estimate (5th percentile of |V^ + noise|) lies above the profile limit: it adds the error bias back."""
    samples = np.random.default_rng(0).multivariate_normal(VECTOR, COVARIANCE, size=200000)
    percentile = np.percentile(np.linalg.norm(samples, axis=1), 5.0)
    assert amplitude_lower_limit(VECTOR, COVARIANCE) < percentile


def test_amplitudes_outside_the_profiled_range_are_refused():
    with pytest.raises(ValueError, match="outside"):
        amplitude_profile(VECTOR, COVARIANCE, 700.0)
