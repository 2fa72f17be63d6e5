"""Minimum-variance bulk flow (Watkins, Feldman & Hudson 2009), beside the maximum-likelihood one.

The maximum-likelihood flow of Hudson et al. (1999, eq. 1) weights objects by their errors, so its
window - the scales it averages over - depends on the survey's geometry and errors and differs from
survey to survey. The minimum-variance (MV) estimator instead asks what the flow of an *ideal* survey
would be: many objects isotropic around us with a Gaussian radial density n(r) ~ exp(-r^2 / 2 R_I^2),
whose flow U_i = sum_n' w'_in' v_n' (here the eq. 1 weights of equal errors). The MV weights w_in
minimise <(u_i - U_i)^2> subject to sum_n w_in r^_n,j = delta_ij (a pure bulk flow is recovered
exactly):

    w_i = G^-1 (Q_i - P lambda_i),   lambda = (P^T G^-1 P)^-1 (P^T G^-1 Q - I)      (WFH09 eq. 7-10)

with G_nm = <v_n v_m> + delta_nm eps_n^2 (linear-theory velocity correlations plus the errors),
Q_in = sum_n' w'_in' <v_n' v_n> and P_nj = r^_n,j. Linear-theory correlations come from the same
power spectrum and angular average as :mod:`astropipe.flow.cosmic_variance`:
<v_n v_m> = (H0 f)^2 / (2 pi^2) integral dk P(k) f_nm(k). So surveys with different geometries
measure the same quantity, comparable with each other and with LambdaCDM's expectation for the
ideal window.
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray
from scipy.stats import chi2

from astropipe.flow.cosmic_variance import (
    WAVENUMBERS,
    CosmicVarianceModel,
    PairKernel,
    flow_window,
    maximum_likelihood_weights,
)
from astropipe.flow.geometry import unit_vectors
from astropipe.random_streams import random_stream

__all__ = [
    "IDEAL_SURVEY_POINTS",
    "ideal_survey",
    "minimum_variance_flow",
    "minimum_variance_weights",
    "velocity_correlation",
]

#: points of the ideal survey (drawn once with a fixed generator)
IDEAL_SURVEY_POINTS = 300


def ideal_survey(radius_kms: float, n_points: int = IDEAL_SURVEY_POINTS) -> NDArray[np.float64]:
    """Positions (km/s, shape (n, 3)) of an ideal survey: isotropic, radial density exp(-r^2 / 2 R_I^2)."""
    return random_stream(20090101).normal(scale=radius_kms, size=(n_points, 3))


def velocity_correlation(
    positions: NDArray, power: NDArray, growth: float, k: NDArray = WAVENUMBERS
) -> NDArray[np.float64]:
    """<v_n v_m> (km^2/s^2), shape (n, n), of the radial velocities at ``positions`` (n, 3; Mpc/h), linear theory.

    The k integral is the trapezoid rule on ``k``, accumulated over the pairs n < m (one vector of them in memory).
    """
    kernel = PairKernel.of(positions)
    step = np.diff(k)
    rule = np.concatenate([[step[0]], step[:-1] + step[1:], [step[-1]]]) / 2.0
    total = np.zeros(len(kernel.first))
    for wavenumber, weight in zip(k, rule * power, strict=True):
        total += weight * kernel(wavenumber)
    scale = (100.0 * growth) ** 2 / (2.0 * np.pi**2)
    return scale * kernel.matrix(total, PairKernel.SELF * float(np.sum(rule * power)))


def minimum_variance_weights(
    correlation: NDArray, cross_correlation: NDArray, ideal_weights: NDArray, r_hat: NDArray, error_kms: NDArray
) -> NDArray[np.float64]:
    """MV weights (3, n), WFH09 eq. 7-10.

    Parameters
    ----------
    correlation : numpy.ndarray (n, n)
        <v_n v_m> of the survey's objects, km^2/s^2.
    cross_correlation : numpy.ndarray (n, n')
        <v_n v_n'> between the objects and the ideal survey's points.
    ideal_weights : numpy.ndarray (3, n')
        The ideal survey's weights.
    r_hat : numpy.ndarray (n, 3)
        The objects' unit vectors.
    error_kms : numpy.ndarray (n,)
        Their velocity errors (km/s).
    """
    g = correlation + np.diag(np.asarray(error_kms, float) ** 2)
    q = cross_correlation @ ideal_weights.T
    g_inv_q, g_inv_p = np.linalg.solve(g, q), np.linalg.solve(g, r_hat)
    multipliers = np.linalg.solve(r_hat.T @ g_inv_p, r_hat.T @ g_inv_q - np.eye(3))
    return (g_inv_q - g_inv_p @ multipliers).T


def minimum_variance_flow(objects: Table, radius_kms: float, model: CosmicVarianceModel | None = None) -> dict:
    """The MV flow of ``objects`` (columns ``l``, ``b``, ``distance_kms``, ``peculiar_kms``, ``error_kms``).

    Returns
    -------
    dict
        ``radius_kms``, ``vector_kms``, ``amplitude_kms``, ``noise_covariance_kms2`` (sum w w^T eps^2),
        ``expected_ideal_rms_kms`` (LambdaCDM's 3-D rms flow in the ideal window),
        ``expected_covariance_kms2`` (the flow's LambdaCDM covariance through the MV weights, plus noise),
        ``chi2`` and ``p`` of the MV flow against it (3 degrees of freedom), and
        ``window_mismatch_kms`` (the rms of u - U expected from the weights: how well the survey
        reproduces the ideal window); the window functions' traces of the MV weights (``window_trace``)
        and of the ideal survey (``ideal_window_trace``) at ``window_k_hmpc`` (h/Mpc).
    """
    r_hat = unit_vectors(objects["l"], objects["b"])
    positions = r_hat * np.asarray(objects["distance_kms"], float)[:, None]
    error = np.asarray(objects["error_kms"], float)
    ideal = ideal_survey(radius_kms)
    ideal_weights = maximum_likelihood_weights(ideal / np.linalg.norm(ideal, axis=1)[:, None], np.ones(len(ideal)))
    power, growth = (model or CosmicVarianceModel()).power_and_growth(WAVENUMBERS)
    n = len(positions)
    correlation = velocity_correlation(np.concatenate([positions, ideal]) / 100.0, power, growth)
    weights = minimum_variance_weights(correlation[:n, :n], correlation[:n, n:], ideal_weights, r_hat, error)
    vector = weights @ np.asarray(objects["peculiar_kms"], float)
    noise = (weights * error**2) @ weights.T
    combined = np.concatenate([weights, -ideal_weights], axis=1)  # u - U
    expected = weights @ correlation[:n, :n] @ weights.T + noise
    ideal_cosmic = ideal_weights @ correlation[n:, n:] @ ideal_weights.T
    statistic = float(vector @ np.linalg.solve(expected, vector))
    windows = {
        name: np.trace(flow_window(w, p / 100.0), axis1=1, axis2=2).tolist()
        for name, w, p in (("window_trace", weights, positions), ("ideal_window_trace", ideal_weights, ideal))
    }
    return {
        "radius_kms": radius_kms,
        "window_k_hmpc": WAVENUMBERS.tolist(),
        **windows,
        "vector_kms": vector.tolist(),
        "amplitude_kms": float(np.linalg.norm(vector)),
        "noise_covariance_kms2": noise.tolist(),
        "expected_ideal_rms_kms": float(np.sqrt(np.trace(ideal_cosmic))),
        "expected_covariance_kms2": expected.tolist(),
        "chi2": statistic,
        "p": float(chi2.sf(statistic, 3)),
        "window_mismatch_kms": float(np.sqrt(np.trace(combined @ correlation @ combined.T + noise))),
    }
