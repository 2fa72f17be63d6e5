"""The biweight M-estimate: unbiased and honest errors on Gaussian data, deaf to gross outliers, smooth."""

import numpy as np
import pytest

from astropipe.reduce.robust_regression import biweight_least_squares


def _line(rng: np.random.Generator, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-1.0, 1.0, n)
    return np.column_stack([x, np.ones(n)]), 3.0 * x + 0.5 + rng.normal(0.0, 0.1, n)


def test_gaussian_data_give_the_truth_within_stated_errors_that_match_the_scatter():
    rng = np.random.default_rng(1)
    slopes, errors = [], []
    for _ in range(400):
        design, values = _line(rng)
        fit = biweight_least_squares(design, values)
        slopes.append(fit.coefficients[0])
        errors.append(np.sqrt(fit.covariance[0, 0]))
    slopes, errors = np.array(slopes), np.array(errors)
    # the slope's least-squares error for this design: sigma / sqrt(sum (x - mean x)^2)
    exact = 0.1 / np.sqrt(np.sum(np.linspace(-1.0, 1.0, 60) ** 2))
    assert abs(slopes.mean() - 3.0) < 3 * exact / np.sqrt(slopes.size)
    assert np.std(slopes) == pytest.approx(np.mean(errors), rel=0.12)
    assert np.std(slopes) == pytest.approx(exact, rel=0.15)  # 95 % efficient: close to least squares


def test_gross_outliers_get_no_weight_where_least_squares_is_pulled_away():
    rng = np.random.default_rng(2)
    design, values = _line(rng)
    bad = np.arange(0, 60, 10)
    values[bad] += 5.0
    fit = biweight_least_squares(design, values)
    ordinary, *_ = np.linalg.lstsq(design, values, rcond=None)
    error = np.sqrt(np.diag(fit.covariance))
    assert np.all(np.abs(fit.coefficients - [3.0, 0.5]) < 3 * error)
    assert np.all(fit.weights[bad] == 0.0)
    assert abs(ordinary[1] - 0.5) > 20 * error[1]
    assert fit.scale == pytest.approx(0.1, rel=0.25)


def _clipped_intercept(design: np.ndarray, values: np.ndarray) -> float:
    """Least squares with hard 3-sigma clipping of the residuals (MAD scale), iterated to convergence."""
    kept = np.ones(values.size, bool)
    for _ in range(20):
        coefficients, *_ = np.linalg.lstsq(design[kept], values[kept], rcond=None)
        residual = values - design @ coefficients
        now = np.abs(residual) <= 3.0 * 1.4826 * np.median(np.abs(residual[kept] - np.median(residual[kept])))
        if np.array_equal(now, kept):
            break
        kept = now
    return float(coefficients[1])


def test_a_point_sliding_out_to_an_outlier_moves_the_fit_smoothly():
    """Hard 3-sigma clipping drops the point at one value and the intercept jumps there by a good part of its
    error; the biweight's weight falls to zero continuously, so no step between neighbouring values is large."""
    rng = np.random.default_rng(3)
    design, values = _line(rng, 30)
    biweight, clipped = [], []
    for offset in np.linspace(0.0, 0.8, 801):  # 0 to 8 sigma in steps of 0.01 sigma
        shifted = values.copy()
        shifted[15] += offset
        biweight.append(biweight_least_squares(design, shifted).coefficients[1])
        clipped.append(_clipped_intercept(design, shifted))
    error = 0.1 / np.sqrt(30)
    assert np.max(np.abs(np.diff(clipped))) > 0.3 * error
    # a point of full weight moves the intercept by 0.01 sigma / 30 = 0.002 error per step; the MAD scale's
    # kinks at most multiply that by ten
    assert np.max(np.abs(np.diff(biweight))) < 0.03 * error
    assert biweight[-1] == pytest.approx(biweight[0], abs=0.35 * error)  # far out it counts for nothing


def test_an_exact_fit_has_no_error_and_too_few_points_are_refused():
    x = np.arange(5.0)
    fit = biweight_least_squares(np.column_stack([x, np.ones(5)]), 2.0 * x - 1.0)
    assert fit.coefficients == pytest.approx([2.0, -1.0])
    assert fit.scale == 0.0 and np.all(fit.covariance == 0.0)
    with pytest.raises(ValueError, match="needs more than 2 points; got 2"):
        biweight_least_squares(np.ones((2, 2)), np.ones(2))
