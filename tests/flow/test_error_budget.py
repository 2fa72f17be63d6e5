"""The error budget: the fit's random error and the run-correction systematic, apart and combined."""

import numpy as np
import pytest

from astropipe.flow.amplitude import amplitude_lower_limit
from astropipe.flow.error_budget import error_budget
from astropipe.flow.geometry import unit_vectors

VECTOR = 630.0 * unit_vectors(260.0, -1.0)[0]


def test_error_budget_adds_the_run_systematic_to_the_fit_covariance():
    """The paper's arithmetic: 180 random (+) 90 systematic = 201 km/s along the flow."""
    direction = VECTOR / np.linalg.norm(VECTOR)
    other = np.linalg.qr(np.column_stack([direction, [0, 0, 1.0], [0, 1.0, 0]]))[0].T
    fit = other.T @ np.diag([180.0, 120.0, 120.0]) ** 2 @ other
    runs = other.T @ np.diag([90.0, 40.0, 40.0]) ** 2 @ other
    budget = error_budget(VECTOR, fit, runs)
    assert budget["amplitude_err_random_kms"] == pytest.approx(180.0)
    assert budget["amplitude_err_systematic_kms"] == pytest.approx(90.0)
    assert budget["amplitude_err_total_kms"] == pytest.approx(np.hypot(180.0, 90.0))
    np.testing.assert_allclose(budget["covariance_total_kms2"], fit + runs)
    assert budget["lower95_total_kms"] == pytest.approx(amplitude_lower_limit(VECTOR, fit + runs))
    assert budget["lower95_total_kms"] < amplitude_lower_limit(VECTOR, fit)  # a larger error, a lower limit
    assert budget["p_rest_total"] > error_budget(VECTOR, fit, 0 * runs)["p_rest_total"]
