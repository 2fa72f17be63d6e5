"""The whole chain for many realisations at once equals the chain run once per realisation."""

import numpy as np
import pytest

from astropipe.flow.batch_chain import (
    cluster_weighted_flows,
    hemisphere_witnesses,
    linearise_survey,
    run_bootstrap_flows,
)
from astropipe.flow.bulkflow import _in_open_hemisphere
from astropipe.flow.peculiar import FlowSettings, analyse_survey
from astropipe.flow.survey import SurveySpec, simulate_survey

#: the two computations differ only by rounding; the tolerance asked of them (km/s)
SAME_FLOW_KMS = 1e-8


@pytest.fixture(scope="module")
def survey():
    return simulate_survey(SurveySpec(n_clusters=40, n_galaxies=420), np.random.default_rng(11))[:3]


def _loop(survey, settings, **weights):
    name, rows = next(iter(weights.items()))
    return np.array(
        [analyse_survey(*survey, settings, n_runs=12, with_table=False, **{name: row}).flow.vector for row in rows]
    )


@pytest.mark.parametrize(
    "settings",
    [
        FlowSettings(),
        FlowSettings(nonlinear=True, extinction_map="bh"),
        FlowSettings(malmquist=False, zero_point_shift=0.02, thermal_kms=300.0),
        FlowSettings(cosmological=False),
    ],
)
def test_run_bootstrap_equals_the_chain_per_realisation(survey, settings):
    rng = np.random.default_rng(1)
    n = len(survey[2])
    counts = np.array([np.bincount(rng.integers(n, size=n), minlength=n) for _ in range(25)], float)
    batch = run_bootstrap_flows(linearise_survey(*survey, settings), counts).vectors
    loop = _loop(survey, settings, measurement_weights=counts)
    assert np.max(np.abs(batch - loop)) < SAME_FLOW_KMS
    assert np.max(np.abs(loop - loop[0])) > 1.0  # the realisations differ: the comparison is not of constants


def test_cluster_weights_equal_the_chain_per_realisation(survey):
    rng = np.random.default_rng(2)
    n = len(survey[0])
    counts = np.array([np.bincount(rng.integers(n, size=n), minlength=n) for _ in range(25)], float)
    leave_one_out = 1.0 - np.eye(n)
    weights = np.concatenate([counts, leave_one_out])
    batch = cluster_weighted_flows(linearise_survey(*survey), weights).vectors
    assert np.max(np.abs(batch - _loop(survey, FlowSettings(), cluster_weights=weights))) < SAME_FLOW_KMS


def test_a_realisation_in_one_hemisphere_gets_no_flow_and_the_reason(survey):
    linear = linearise_survey(*survey)
    north = (linear.r_hat[:, 2] > 0).astype(float)
    weights = np.ones((6, len(north)))
    weights[4] = north
    batch = cluster_weighted_flows(linear, weights)
    assert np.all(np.isnan(batch.vectors[4])) and np.all(np.isfinite(np.delete(batch.vectors, 4, axis=0)))
    assert batch.notes[4] == "all objects lie in one hemisphere: the monopole and the dipole are degenerate"
    assert batch.notes[:4] == [""] * 4
    with pytest.raises(ValueError, match="one hemisphere"):  # what the chain run once says of the same survey
        analyse_survey(*survey, cluster_weights=north)


def test_the_witness_quadruples_hold_the_observer(survey):
    r_hat = linearise_survey(*survey).r_hat
    witnesses = hemisphere_witnesses(r_hat)
    assert len(witnesses) > 10
    assert not any(_in_open_hemisphere(r_hat[quadruple]) for quadruple in witnesses)
    assert len(hemisphere_witnesses(r_hat[r_hat[:, 2] > 0])) == 0  # one hemisphere: no quadruple can hold it


def test_a_bootstrap_that_unties_a_run_gets_no_flow_and_the_reason(survey):
    """Run 3's measurements of galaxies seen in other runs are not drawn: its offset is undefined."""
    dispersions = survey[2]
    galaxy, run = np.asarray(dispersions["galaxy"]), np.asarray(dispersions["run"])
    tying = np.isin(galaxy, galaxy[run != 3]) & (run == 3)
    counts = np.ones((3, len(dispersions)))
    counts[1, tying] = 0.0
    batch = run_bootstrap_flows(linearise_survey(*survey), counts)
    assert np.all(np.isnan(batch.vectors[1])) and np.all(np.isfinite(batch.vectors[[0, 2]]))
    assert batch.notes == [
        "",
        "the drawn measurements do not tie every spectroscopic run to the others: run offsets undefined",
        "",
    ]
