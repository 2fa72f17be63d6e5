"""Surveys as real ones are drawn - uniform in volume, diameter-limited - and what the chain makes of them.

A diameter-limited sample holds only the larger galaxies of distant clusters: a distance indicator
that predicts sizes (the forward FP) would put those clusters too close. The inverse FP predicts the
velocity dispersion from the photometric quantities the selection acts on, so it is not biased
(Hudson et al. 1999, §2); the homogeneous Malmquist correction assumes the uniform-in-volume density
drawn here. Checked by Monte Carlo against the injected truth.
"""

import numpy as np
import pytest
from scipy.stats import chi2

from astropipe.flow.peculiar import analyse_survey
from astropipe.flow.resample import run_realisations
from astropipe.flow.survey import SurveySpec, simulate_survey

SELECTED = SurveySpec(radial_density="volume", size_limit_arcsec=2.5)


def _slope(x, y):
    """Least-squares slope of y on x and its error."""
    x = x - x.mean()
    slope = float(x @ (y - y.mean()) / (x @ x))
    residual = y - y.mean() - slope * x
    return slope, float(np.sqrt(residual @ residual / (len(x) - 2) / (x @ x)))


def test_distant_clusters_hold_larger_galaxies_and_the_inverse_fp_distances_do_not_follow():
    log_true, log_ratio, log_size = [], [], []
    for i in range(40):
        clusters, galaxies, dispersions, truth = simulate_survey(
            SELECTED, np.random.default_rng(np.random.SeedSequence([9, i]))
        )
        distance = np.array(truth["cluster_distance_kms"])
        member = np.searchsorted(np.asarray(clusters["cluster"]), np.asarray(galaxies["cluster"]))
        size = np.asarray(galaxies["log_theta"]) + np.log10(distance[member])  # log R + a constant
        log_size.append(np.bincount(member, size) / np.bincount(member))
        log_true.append(np.log10(distance))
        log_ratio.append(
            np.log10(np.asarray(analyse_survey(clusters, galaxies, dispersions).clusters["distance_kms"]) / distance)
        )
    x = np.concatenate(log_true)
    size_slope, size_error = _slope(x, np.concatenate(log_size))
    ratio_slope, ratio_error = _slope(x, np.concatenate(log_ratio))
    assert size_slope > 0.15 and size_slope > 10 * size_error  # the selection bites: 0.1+ dex larger far away
    assert abs(ratio_slope) < 3 * ratio_error + 0.005  # the inverse-FP distances do not follow it


def test_flow_bias_and_total_covariance_coverage_over_200_selected_surveys():
    """Bias of each component under a fifth of its error; the 68 % region of C_fit + C_runs holds 60-76 % of the truths."""
    deltas, inside, errors = [], [], []
    for i in range(200):
        clusters, galaxies, dispersions, truth = simulate_survey(
            SELECTED, np.random.default_rng(np.random.SeedSequence([7, i]))
        )
        flow = analyse_survey(clusters, galaxies, dispersions, with_table=False).flow
        bootstrap = run_realisations("run_bootstrap", 0, 60, clusters, galaxies, dispersions, seed=i)
        total = flow.covariance + np.cov(np.column_stack([bootstrap["vx"], bootstrap["vy"], bootstrap["vz"]]).T)
        delta = flow.vector - np.array(truth["flow_vector_kms"])
        deltas.append(delta)
        inside.append(delta @ np.linalg.solve(total, delta) < chi2.ppf(0.6827, 3))
        errors.append(np.sqrt(np.diag(total)))
    bias = np.mean(deltas, axis=0)
    assert np.all(np.abs(bias) < 0.2 * np.mean(errors, axis=0)), bias
    assert np.mean(inside) == pytest.approx(0.68, abs=0.08)
