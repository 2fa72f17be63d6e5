"""Monte-Carlo recovery of an injected bulk flow (Hudson et al. 1999, §3).

Each realisation is a new simulated survey (:func:`astropipe.flow.survey.simulate_survey`:
new cluster positions, galaxies, runs and noise) with the same injected flow,
analysed by the whole chain. Realisation i draws from
``random_stream(seed, "recovery", i)``, so the results do not depend
on how the realisations are split into jobs.

Per realisation: the fitted V and its quoted covariance, the error
V - V_true, its Mahalanobis distance chi^2 = dV^T C^-1 dV (3 dof), and the
monopole error dM = sum w (v - v_true) / sum w with w = 1/eps^2 - what the
no-net-monopole zero point leaves in the peculiar velocities. Summaries: the
bias of V (mean dV and its error of the mean), of |V| and of the
error-bias-corrected amplitude; the coverage of the 68.3 % and 95.4 % error
regions (fraction with chi^2 below the chi^2_3 quantile, binomial error); the
ratio of the Monte-Carlo scatter of V to the mean quoted covariance; and the
4 x 4 covariance and correlations of (dM, dV).
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from scipy.stats import chi2

from astropipe.flow.peculiar import FlowSettings, analyse_survey
from astropipe.flow.survey import SurveySpec, simulate_survey
from astropipe.random_streams import random_stream

__all__ = ["COVERAGE_LEVELS", "recover", "summarise_recovery"]

COVERAGE_LEVELS = {"68": 0.6827, "95": 0.9545}
_COVARIANCE = ("cxx", "cxy", "cxz", "cyy", "cyz", "czz")


def recover(spec: SurveySpec, seed: int, start: int, stop: int, settings: FlowSettings = FlowSettings()) -> Table:
    """Simulate and analyse surveys [start, stop); one row per survey.

    Columns: ``realisation``; ``vx, vy, vz`` fitted and ``tx, ty, tz`` injected
    (km/s, Galactic Cartesian); the quoted covariance ``cxx ... czz`` (km^2/s^2);
    ``chi2`` of the error against the quoted covariance; ``monopole_kms``.
    """
    rows = []
    for i in range(start, stop):
        clusters, galaxies, dispersions, truth = simulate_survey(spec, random_stream(seed, "recovery", i))
        result = analyse_survey(clusters, galaxies, dispersions, settings, spec.n_runs)
        flow = result.flow
        injected = np.array(truth["flow_vector_kms"])
        delta = flow.vector - injected
        weight = 1.0 / np.asarray(result.clusters["error_kms"]) ** 2
        residual = np.asarray(result.clusters["peculiar_kms"]) - np.array(truth["cluster_peculiar_kms"])
        c = flow.covariance
        rows.append(
            (
                i,
                *flow.vector,
                *injected,
                c[0, 0],
                c[0, 1],
                c[0, 2],
                c[1, 1],
                c[1, 2],
                c[2, 2],
                float(delta @ np.linalg.solve(c, delta)),
                float(np.sum(weight * residual) / weight.sum()),
            )
        )
    names = ("realisation", "vx", "vy", "vz", "tx", "ty", "tz", *_COVARIANCE, "chi2", "monopole_kms")
    return Table(rows=rows, names=names, dtype=(int,) + (float,) * (len(names) - 1))


def _covariances(table: Table) -> np.ndarray:
    c = np.column_stack([table[name] for name in _COVARIANCE])
    return c[:, [0, 1, 2, 1, 3, 4, 2, 4, 5]].reshape(-1, 3, 3)


def summarise_recovery(table: Table) -> dict:
    """Bias, coverage, error calibration and monopole-dipole covariance over the realisations."""
    n = len(table)
    if n < 2:
        raise ValueError(f"Monte-Carlo recovery needs at least 2 realisations, got {n}")
    fitted = np.column_stack([table["vx"], table["vy"], table["vz"]])
    injected = np.column_stack([table["tx"], table["ty"], table["tz"]])
    delta = fitted - injected
    quoted = _covariances(table)
    mean_quoted = quoted.mean(axis=0)
    amplitude = np.linalg.norm(fitted, axis=1)
    debiased = np.sqrt(np.clip(amplitude**2 - np.trace(quoted, axis1=1, axis2=2), 0.0, None))
    true_amplitude = np.linalg.norm(injected, axis=1)
    coverage = {}
    for label, level in COVERAGE_LEVELS.items():
        inside = np.asarray(table["chi2"]) < chi2.ppf(level, 3)
        fraction = float(inside.mean())
        coverage[label] = {
            "nominal": level,
            "fraction": fraction,
            "fraction_err": float(np.sqrt(level * (1 - level) / n)),
        }
    joint = np.column_stack([table["monopole_kms"], delta])
    joint_covariance = np.cov(joint.T)
    scale = np.sqrt(np.diag(joint_covariance))
    return {
        "n_realisations": n,
        "bias_vector_kms": delta.mean(axis=0).tolist(),
        "bias_vector_err_kms": (delta.std(axis=0, ddof=1) / np.sqrt(n)).tolist(),
        "amplitude_bias_kms": float(np.mean(amplitude - true_amplitude)),
        "amplitude_debiased_bias_kms": float(np.mean(debiased - true_amplitude)),
        "amplitude_bias_err_kms": float(np.std(amplitude - true_amplitude, ddof=1) / np.sqrt(n)),
        "coverage": coverage,
        "scatter_covariance_kms2": np.cov(delta.T).tolist(),
        "mean_quoted_covariance_kms2": mean_quoted.tolist(),
        "scatter_over_quoted_trace": float(np.trace(np.cov(delta.T)) / np.trace(mean_quoted)),
        "monopole_bias_kms": float(np.mean(table["monopole_kms"])),
        "monopole_dipole_covariance_kms2": joint_covariance.tolist(),
        "monopole_dipole_correlation": (joint_covariance[0, 1:] / (scale[0] * scale[1:])).tolist(),
        "units": "km/s; covariances km^2/s^2; Galactic Cartesian; monopole first in the 4 x 4 covariance",
    }
