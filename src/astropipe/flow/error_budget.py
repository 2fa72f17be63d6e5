"""The bulk flow's total error: the fit's random error and the run-correction systematic, apart and combined.

Hudson et al. (1999) quote 630 +- 200 km/s, the 200 being 180 random (the fit's covariance) and 90
systematic (the uncertainty of the spectroscopic-run corrections, from a bootstrap of them), added in
quadrature. Here the covariances add: C_total = C_fit + C_runs, where C_runs is the sample covariance
of the run-correction bootstrap (each realisation re-derives the corrections and re-runs the whole
chain). Each error is quoted along the flow's direction, like the paper's amplitude error, and the
headline quantities that depend on the covariance (Delta chi^2 against rest, its probability, the
amplitude's debiased value and 95 % lower limit) are recomputed with C_total.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import chi2

from astropipe.flow.amplitude import amplitude_lower_limit

__all__ = ["error_budget"]


def _along(direction: np.ndarray, covariance: np.ndarray) -> float:
    return float(np.sqrt(direction @ covariance @ direction))


def error_budget(vector: ArrayLike, fit_covariance: ArrayLike, run_covariance: ArrayLike) -> dict:
    """Random, systematic and total errors of the flow ``vector`` (km/s), and the headline numbers with the total.

    Parameters
    ----------
    vector : array_like (3,)
        The fitted flow, km/s (Galactic Cartesian).
    fit_covariance : array_like (3, 3)
        The fit's (random) covariance, km^2/s^2.
    run_covariance : array_like (3, 3)
        The run-correction bootstrap's covariance (systematic), km^2/s^2.

    Returns
    -------
    dict
        ``amplitude_err_random_kms``, ``amplitude_err_systematic_kms``, ``amplitude_err_total_kms``
        (each along V), ``covariance_total_kms2``, ``amplitude_debiased_total_kms``,
        ``delta_chi2_rest_total``, ``p_rest_total`` and ``lower95_total_kms``.
    """
    vector = np.asarray(vector, float)
    fit, runs = np.asarray(fit_covariance, float), np.asarray(run_covariance, float)
    total = fit + runs
    direction = vector / np.linalg.norm(vector)
    amplitude = float(np.linalg.norm(vector))
    delta_chi2 = float(vector @ np.linalg.solve(total, vector))
    return {
        "amplitude_kms": amplitude,
        "amplitude_err_random_kms": _along(direction, fit),
        "amplitude_err_systematic_kms": _along(direction, runs),
        "amplitude_err_total_kms": _along(direction, total),
        "covariance_total_kms2": total.tolist(),
        "amplitude_debiased_total_kms": float(np.sqrt(max(amplitude**2 - np.trace(total), 0.0))),
        "delta_chi2_rest_total": delta_chi2,
        "p_rest_total": float(chi2.sf(delta_chi2, 3)),
        "lower95_total_kms": amplitude_lower_limit(vector, total),
    }
