"""The bulk-flow fit: exact on noise-free data, clear errors on degenerate input."""

import numpy as np
import pytest

from astropipe.flow.bulkflow import BulkFlow, fit_bulk_flow
from astropipe.flow.geometry import cmb_velocity, direction_of, unit_vectors


def _sky(n, seed=1):
    v = np.random.default_rng(seed).normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1)[:, None]


def test_noise_free_flow_is_recovered_exactly_with_the_analytic_covariance():
    r_hat, truth = _sky(40), np.array([-100.0, -600.0, 50.0])
    error = np.linspace(200, 900, 40)
    flow = fit_bulk_flow(r_hat, r_hat @ truth, error)
    np.testing.assert_allclose(flow.vector, truth, atol=1e-9)
    expected = np.linalg.inv((r_hat / error[:, None] ** 2).T @ r_hat)
    np.testing.assert_allclose(flow.covariance, expected, rtol=1e-12)
    summary = flow.summary()
    amplitude, l_deg, _ = direction_of(truth)
    assert summary["amplitude_kms"] == pytest.approx(amplitude) and summary["l_deg"] == pytest.approx(l_deg)
    assert summary["amplitude_debiased_kms"] == pytest.approx(np.sqrt(amplitude**2 - np.trace(expected)))
    assert summary["p_rest"] < 1e-4 and summary["chi2"] == pytest.approx(0.0, abs=1e-12)


def test_direction_errors_match_monte_carlo():
    r_hat, truth = _sky(60, 2), 600 * unit_vectors(260.0, -1.0)[0]
    error = np.full(60, 400.0)
    rng = np.random.default_rng(3)
    fits = [fit_bulk_flow(r_hat, r_hat @ truth + error * rng.standard_normal(60), error) for _ in range(2000)]
    l_values = np.array([direction_of(f.vector)[1] for f in fits])
    summary = fit_bulk_flow(r_hat, r_hat @ truth, error).summary()
    assert np.std(l_values) == pytest.approx(summary["l_err_deg"], rel=0.15)


def test_cmb_frame_adds_the_solar_dipole():
    apex = cmb_velocity(0.0, 264.0, 48.3)
    assert apex == pytest.approx(369.8, rel=1e-3)
    assert cmb_velocity(10000.0, 84.0, -48.3) == pytest.approx(10000.0 - 369.8 * (1 + 10000 / 299792.458), rel=1e-4)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r, v, e: (r[:3], v[:3], e[:3]), "at least 4 objects"),
        (lambda r, v, e: (r, np.where(np.arange(v.size) == 2, np.nan, v), e), "NaN"),
        (lambda r, v, e: (r, v, np.where(np.arange(e.size) == 1, 0.0, e)), "errors must be positive"),
        (lambda r, v, e: (np.abs(r), v, e), "one hemisphere"),
        # every cluster at 0 < l < 180 deg, at any latitude: a hemisphere not centred on their mean direction
        (
            lambda r, v, e: (
                unit_vectors(np.linspace(5, 175, 30), np.linspace(-80, 80, 30) * (-1) ** np.arange(30)),
                v,
                e,
            ),
            "one hemisphere",
        ),
        (
            lambda r, v, e: (
                np.tile([[1.0, 0, 0], [-1.0, 0, 0], [0.6, 0.8, 0], [-0.6, -0.8, 0]], (5, 1)),
                v[:20],
                e[:20],
            ),
            "one plane",
        ),
        # all within 0.01 deg of the Galactic plane: the z component is unmeasurable (519,000 km/s once fitted)
        (lambda r, v, e: (unit_vectors(np.linspace(0, 348, 30), 0.01 * np.sin(np.arange(30))), v, e), "singular"),
        (lambda r, v, e: (2.0 * r, v, e), r"unit vectors; row \d+ has length 2"),
    ],
)
def test_degenerate_inputs_are_rejected_with_a_reason(change, message):
    r_hat, velocity, error = _sky(30), np.zeros(30), np.full(30, 300.0)
    with pytest.raises(ValueError, match=message):
        fit_bulk_flow(*change(r_hat, velocity, error))


def test_a_poorly_constrained_axis_is_flagged_in_the_summary():
    """Clusters within 5 deg of the Galactic plane: accepted, but the summary says which axis is poor and by how much."""
    rng = np.random.default_rng(5)
    r_hat = unit_vectors(rng.uniform(0, 360, 50), rng.uniform(-5, 5, 50))
    flow = fit_bulk_flow(r_hat, r_hat @ np.array([300.0, -200.0, 0.0]), np.full(50, 300.0))
    geometry = flow.summary()["geometry"]
    assert geometry["axis_error_ratio"] == pytest.approx(np.sqrt(np.linalg.cond(np.linalg.inv(flow.covariance))))
    assert geometry["axis_error_ratio"] > 10 and "b) = (" in geometry["warnings"][0]
    assert abs(flow.summary()["error_ellipsoid"][-1]["b_deg"]) > 80  # the poor axis is the Galactic pole
    sky = _sky(50)
    isotropic = fit_bulk_flow(sky, sky @ np.array([300.0, -200.0, 100.0]), np.full(50, 300.0)).summary()["geometry"]
    assert isotropic["warnings"] == [] and isotropic["axis_error_ratio"] < 3


def test_error_axes_are_quoted_in_the_hemisphere_of_the_flow():
    """Hudson et al. (1999) quote the largest axis towards (237, -11) for a flow towards (260, -1): not folded to b >= 0."""
    tilt = unit_vectors(237.0, -11.0)[0]
    basis = np.linalg.qr(np.column_stack([tilt, np.cross(tilt, [0, 0, 1.0]), [0, 0, 1.0]]))[0]
    basis[:, 0] = tilt  # the largest axis exactly, the others orthogonal to it
    covariance = basis @ np.diag([214.0, 120.0, 100.0]) ** 2 @ basis.T
    flow = BulkFlow(
        vector=630.0 * unit_vectors(260.0, -1.0)[0], covariance=covariance, chi2=0.0, n_objects=56, depth_kms=8000.0
    )
    largest = flow.summary()["error_ellipsoid"][-1]
    assert largest["sigma_kms"] == pytest.approx(214.0)
    assert (largest["l_deg"], largest["b_deg"]) == (pytest.approx(237.0), pytest.approx(-11.0))
    for axis in flow.summary()["error_ellipsoid"]:
        assert unit_vectors(axis["l_deg"], axis["b_deg"])[0] @ flow.vector >= 0
