"""Minimum-variance bulk flow: the constraint, the optimality against the eq. 1 weights, the ideal-survey limit."""

import numpy as np
import pytest
from astropy.table import Table

from astropipe.flow.cosmic_variance import WAVENUMBERS, CosmicVarianceModel, flow_window, maximum_likelihood_weights
from astropipe.flow.geometry import direction_of, unit_vectors
from astropipe.flow.minimum_variance import (
    ideal_survey,
    minimum_variance_flow,
    minimum_variance_weights,
    velocity_correlation,
)

RADIUS_KMS = 5000.0


@pytest.fixture(scope="module")
def spectrum():
    return CosmicVarianceModel().power_and_growth(WAVENUMBERS)


def _survey(n=50, seed=3):
    rng = np.random.default_rng(seed)
    r_hat = unit_vectors(rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n))))
    return r_hat, rng.uniform(3000.0, 12000.0, n), rng.uniform(300.0, 900.0, n)


def _ideal():
    ideal = ideal_survey(RADIUS_KMS)
    return ideal, maximum_likelihood_weights(ideal / np.linalg.norm(ideal, axis=1)[:, None], np.ones(len(ideal)))


def _mismatch(weights, ideal_weights, correlation, error):
    """rms of u - U (km/s) for weights on n objects, ``correlation`` of the objects and the ideal points together."""
    combined = np.concatenate([weights, -ideal_weights], axis=1)
    return float(np.sqrt(np.trace(combined @ correlation @ combined.T + (weights * error**2) @ weights.T)))


def test_a_pure_bulk_flow_is_recovered_exactly_and_the_weights_beat_the_eq1_ones(spectrum):
    r_hat, distance, error = _survey()
    ideal, ideal_weights = _ideal()
    both = np.concatenate([r_hat * distance[:, None], ideal]) / 100.0
    correlation, n = velocity_correlation(both, *spectrum), len(r_hat)
    weights = minimum_variance_weights(correlation[:n, :n], correlation[:n, n:], ideal_weights, r_hat, error)
    np.testing.assert_allclose(weights @ r_hat, np.eye(3), atol=1e-9)
    ml = maximum_likelihood_weights(r_hat, error)
    # both satisfy the constraint; MV minimises the mismatch among such weights
    assert _mismatch(weights, ideal_weights, correlation, error) < _mismatch(ml, ideal_weights, correlation, error)


def test_the_ideal_survey_measured_with_tiny_errors_reproduces_the_ideal_flow(spectrum):
    ideal, ideal_weights = _ideal()
    correlation = velocity_correlation(ideal / 100.0, *spectrum)
    error = np.full(len(ideal), 1.0)
    r_hat = ideal / np.linalg.norm(ideal, axis=1)[:, None]
    weights = minimum_variance_weights(correlation, correlation, ideal_weights, r_hat, error)
    difference = weights - ideal_weights
    mismatch = np.sqrt(np.trace(difference @ correlation @ difference.T + (weights * error**2) @ weights.T))
    ideal_rms = np.sqrt(np.trace(ideal_weights @ correlation @ ideal_weights.T))
    assert mismatch < 0.02 * ideal_rms


def test_the_flow_of_a_table_and_its_lcdm_expectation():
    r_hat, distance, error = _survey(n=60, seed=5)
    truth = np.array([-100.0, -600.0, 50.0])
    table = Table(
        {
            "l": [direction_of(r)[1] for r in r_hat],
            "b": [direction_of(r)[2] for r in r_hat],
            "distance_kms": distance,
            "error_kms": error,
            "peculiar_kms": r_hat @ truth,
        }
    )
    out = minimum_variance_flow(table, RADIUS_KMS)
    np.testing.assert_allclose(out["vector_kms"], truth, atol=1e-6)
    assert 120.0 < out["expected_ideal_rms_kms"] < 260.0  # linear LambdaCDM for a 50 Mpc/h Gaussian window
    assert out["p"] < 0.05 and out["window_mismatch_kms"] > 0


def test_the_mv_window_follows_the_ideal_one_better_than_the_eq1_window():
    """The point of the MV weights: on large scales (k < 0.05 h/Mpc) their window is closer to the ideal one."""
    r_hat, distance, error = _survey(n=60, seed=5)
    table = Table(
        {
            "l": [direction_of(r)[1] for r in r_hat],
            "b": [direction_of(r)[2] for r in r_hat],
            "distance_kms": distance,
            "error_kms": error,
            "peculiar_kms": np.zeros(60),
        }
    )
    out = minimum_variance_flow(table, RADIUS_KMS)
    k = np.asarray(out["window_k_hmpc"])
    large = k < 0.05
    ideal, mv = np.asarray(out["ideal_window_trace"]), np.asarray(out["window_trace"])
    eq1 = np.trace(
        flow_window(maximum_likelihood_weights(r_hat, error), r_hat * distance[:, None] / 100.0, k), axis1=1, axis2=2
    )
    assert ideal[0] == pytest.approx(1.0, abs=1e-3) and mv[0] == pytest.approx(1.0, abs=1e-3)  # W^2(k -> 0) = I / 3
    assert np.sum((mv - ideal)[large] ** 2) < np.sum((eq1 - ideal)[large] ** 2)
