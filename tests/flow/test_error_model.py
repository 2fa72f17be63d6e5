"""The maximum-likelihood error model recovers an injected velocity dispersion and error scale."""

import numpy as np
import pytest

from astropipe.flow.error_model import ErrorModel, fit_error_model


def _sample(rng, n, dispersion, scale, largest_error=1500.0):
    v = rng.normal(size=(n, 3))
    r_hat = v / np.linalg.norm(v, axis=1)[:, None]
    quoted = rng.uniform(100.0, largest_error, n)  # quoted errors, of which only the fraction ``scale`` is real
    slope = -rng.uniform(2000.0, 8000.0, n)
    truth = r_hat @ np.array([300.0, -200.0, 100.0]) + slope * 0.02
    velocity = truth + np.sqrt((scale * quoted) ** 2 + dispersion**2) * rng.standard_normal(n)
    return r_hat, velocity, quoted, slope


def test_injected_dispersion_and_error_scale_are_recovered_within_their_errors():
    rng = np.random.default_rng(5)
    model = fit_error_model(*_sample(rng, 3000, dispersion=300.0, scale=0.6))
    assert abs(model.dispersion_kms - 300.0) < 3 * model.dispersion_err_kms
    assert abs(model.error_scale - 0.6) < 3 * model.error_scale_err
    assert 5 < model.dispersion_err_kms < 60 and 0.005 < model.error_scale_err < 0.06


def test_quoted_errors_match_the_scatter_of_repeated_fits():
    """The errors from the Hessian against the spread of the estimates over 60 independent samples."""
    rng = np.random.default_rng(6)
    fits = [fit_error_model(*_sample(rng, 800, dispersion=300.0, scale=0.8, largest_error=600.0)) for _ in range(60)]
    dispersion = np.array([f.dispersion_kms for f in fits])
    quoted = np.median([f.dispersion_err_kms for f in fits])
    assert np.std(dispersion, ddof=1) == pytest.approx(quoted, rel=0.35)
    scale = np.array([f.error_scale for f in fits])
    assert np.std(scale, ddof=1) == pytest.approx(np.median([f.error_scale_err for f in fits]), rel=0.35)


def test_a_fixed_model_adds_the_dispersion_in_quadrature():
    model = ErrorModel(dispersion_kms=250.0, error_scale=0.5)
    np.testing.assert_allclose(model.errors([600.0, 0.0]), [np.hypot(300.0, 250.0), 250.0])


def test_a_sample_whose_quoted_errors_explain_the_scatter_gives_no_dispersion():
    rng = np.random.default_rng(8)
    model = fit_error_model(*_sample(rng, 500, dispersion=0.0, scale=1.0))
    assert model.dispersion_kms < 3 * model.dispersion_err_kms and np.isfinite(model.dispersion_err_kms)
    assert abs(model.error_scale - 1.0) < 3 * model.error_scale_err
