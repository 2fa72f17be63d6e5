"""Linear least squares that outliers cannot pull: a Tukey biweight M-estimate.

Hard k-sigma clipping keeps or drops a point by a threshold, so a point whose residual lies near it moves
the answer by a step when the data change by far less than their noise. An M-estimator weights every point
by a smooth function of its residual instead (Huber 1981, *Robust Statistics*, ch. 7; Holland & Welsch
1977, Commun. Stat. A6, 813, iteratively reweighted least squares):

* the Huber estimate (psi(u) = u for abs(u) <= 1.345, +-1.345 beyond) is found first: its objective is
  convex, so it does not depend on where the iteration starts;
* from it, Tukey's biweight (psi(u) = u (1 - (u/c)^2)^2 for abs(u) < c = 4.685, 0 beyond; 95 % efficient
  for Gaussian residuals) gives gross outliers no weight at all, their weight going to zero continuously.

The residuals are measured in units of their scale, the normalised median absolute deviation, re-estimated
at each iteration. The covariance is the first of Huber's (1981) three estimates (``statsmodels``' RLM "H1"):
``K^2 s^2 [sum psi^2 / (n - p)] / [mean psi']^2 (X^T X)^-1`` with ``K = 1 + (p / n) var(psi') / mean(psi')^2``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from astropy.stats import mad_std
from numpy.typing import NDArray

__all__ = ["HUBER_K", "TUKEY_C", "RobustFit", "biweight_least_squares"]

#: Huber's tuning constant (95 % efficiency for Gaussian residuals), in units of the residuals' scale
HUBER_K = 1.345
#: Tukey's biweight cut-off (95 % efficiency for Gaussian residuals), in units of the residuals' scale
TUKEY_C = 4.685
#: iterations of each stage at most, and the relative change of the coefficients that ends one
MAX_ITERATIONS = 200
TOLERANCE = 1e-12

Psi = Callable[[NDArray[np.float64]], tuple[NDArray[np.float64], NDArray[np.float64]]]


@dataclass(frozen=True)
class RobustFit:
    """An M-estimate of a linear model and its uncertainty."""

    coefficients: NDArray[np.float64]
    covariance: NDArray[np.float64]
    weights: NDArray[np.float64]  # each point's final IRLS weight, 0 to 1 (0: no influence)
    scale: float  # the residuals' robust scale, data units


def _huber(u: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Huber's psi(u) and psi'(u)."""
    return np.clip(u, -HUBER_K, HUBER_K), (np.abs(u) <= HUBER_K).astype(float)


def _biweight(u: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Tukey's biweight psi(u) and psi'(u)."""
    v = np.where(np.abs(u) < TUKEY_C, (u / TUKEY_C) ** 2, 1.0)
    return u * (1.0 - v) ** 2, (1.0 - v) * (1.0 - 5.0 * v)


def _irls(design: NDArray, values: NDArray, start: NDArray, psi: Psi) -> tuple[NDArray, NDArray, float]:
    """Iteratively reweighted least squares from ``start``: the coefficients, the weights and the scale."""
    coefficients = start
    weights, scale = np.ones(values.size), 0.0
    for _ in range(MAX_ITERATIONS):
        residual = values - design @ coefficients
        scale = float(mad_std(residual))
        if scale <= 0:
            break
        u = residual / scale
        with np.errstate(invalid="ignore", divide="ignore"):
            weights = np.where(u != 0, psi(u)[0] / u, 1.0)
        root = np.sqrt(weights)
        updated, *_ = np.linalg.lstsq(design * root[:, None], values * root, rcond=None)
        change = np.max(np.abs(updated - coefficients)) / max(np.max(np.abs(updated)), np.finfo(float).tiny)
        coefficients = updated
        if change < TOLERANCE:
            break
    return coefficients, weights, scale


def biweight_least_squares(design: NDArray[np.float64], values: NDArray[np.float64]) -> RobustFit:
    """Biweight M-estimate of ``values`` = ``design`` @ coefficients (module docstring).

    Parameters
    ----------
    design : numpy.ndarray, shape (n, p)
        The model's regressors, finite.
    values : numpy.ndarray, shape (n,)
        The data, finite; n > p.

    Returns
    -------
    RobustFit
        Coefficients, their covariance (Huber's, from the residuals' scatter), the points' final weights and
        the residuals' scale. An exact fit (scale 0) gets a zero covariance.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(20.0)
    >>> y = 2.0 * x + 1.0 + np.where(x == 7, 50.0, 0.0) + 0.01 * np.sin(x)
    >>> fit = biweight_least_squares(np.column_stack([x, np.ones_like(x)]), y)
    >>> np.round(fit.coefficients, 2).tolist(), float(fit.weights[7])
    ([2.0, 1.0], 0.0)
    """
    design, values = np.asarray(design, dtype=float), np.asarray(values, dtype=float)
    n, p = design.shape
    if n <= p:
        raise ValueError(f"a robust fit of {p} coefficients needs more than {p} points; got {n}")
    ordinary, *_ = np.linalg.lstsq(design, values, rcond=None)
    huber, _, _ = _irls(design, values, ordinary, _huber)
    coefficients, weights, scale = _irls(design, values, huber, _biweight)
    if scale <= 0:
        return RobustFit(coefficients, np.zeros((p, p)), weights, 0.0)
    psi, slope = _biweight((values - design @ coefficients) / scale)
    mean_slope = float(np.mean(slope))
    correction = 1.0 + (p / n) * float(np.var(slope)) / mean_slope**2
    variance = correction**2 * scale**2 * float(np.sum(psi**2)) / (n - p) / mean_slope**2
    return RobustFit(coefficients, variance * np.linalg.pinv(design.T @ design), weights, scale)
