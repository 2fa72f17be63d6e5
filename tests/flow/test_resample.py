"""Leave-one-run-out on run structures a real survey has: a cluster seen in one run only, runs tied through one."""

import numpy as np
import pytest
from astropy.table import Table

from astropipe.flow.peculiar import FlowSettings, analyse_survey, survey_constants
from astropipe.flow.resample import gather, run_realisations, summarise, without_run
from astropipe.flow.runs import tied_run_groups
from astropipe.flow.survey import SurveySpec, simulate_survey


@pytest.fixture
def survey():
    return simulate_survey(SurveySpec(n_clusters=20, n_galaxies=200), np.random.default_rng(4))[:3]


def _only_in_run(survey, cluster_row: int, run: int):
    """Move every measurement of one cluster's galaxies into one run (the cluster was observed in that run only)."""
    clusters, galaxies, dispersions = (t.copy() for t in survey)
    members = np.asarray(galaxies["galaxy"])[np.asarray(galaxies["cluster"]) == clusters["cluster"][cluster_row]]
    runs = np.asarray(dispersions["run"]).copy()
    runs[np.isin(np.asarray(dispersions["galaxy"]), members)] = run
    dispersions["run"] = runs
    return clusters, galaxies, dispersions


def test_a_cluster_seen_in_the_left_out_run_only_is_dropped_with_a_note(survey):
    clusters, galaxies, dispersions = _only_in_run(survey, 3, 0)
    subsample, note = without_run(0, clusters, galaxies, dispersions)
    name = str(clusters["cluster"][3])
    assert note == f"clusters ['{name}'] dropped (fewer than 2 galaxies without run 0)"
    assert name not in set(subsample[0]["cluster"]) and len(subsample[0]) == 19
    assert list(subsample[1]["galaxy"]) == list(range(len(subsample[1])))  # renumbered as the analysis expects
    table = run_realisations("jackknife_run", 0, 2, clusters, galaxies, dispersions, seed=1)
    assert np.all(np.isfinite(np.asarray(table["vx"]))) and table["note"][0] == note


def test_nothing_dropped_gives_the_plain_leave_one_run_out(survey):
    clusters, galaxies, dispersions = survey
    subsample, note = without_run(5, clusters, galaxies, dispersions)
    kept = dispersions[np.asarray(dispersions["run"]) != 5]
    if len(np.unique(kept["galaxy"])) == len(galaxies):  # every galaxy still measured
        assert note == ""
        direct = analyse_survey(clusters, galaxies, kept, n_runs=12).flow.vector
        np.testing.assert_array_equal(analyse_survey(*subsample, n_runs=12).flow.vector, direct)


def test_runs_tied_only_through_the_left_out_run_leave_the_realisation_out(survey):
    """Runs 1 and 2 share galaxies only with run 0: without run 0 their offsets are undefined."""
    clusters, galaxies, dispersions = survey
    first = dispersions[np.unique(np.asarray(dispersions["galaxy"]), return_index=True)[1]]
    rows = [
        (g, run, s, e)
        for g, s, e in zip(first["galaxy"], first["log_sigma"], first["log_sigma_err"], strict=True)
        for run in ((0, 1) if g % 2 else (0, 2))
    ]
    dispersions = Table(rows=rows, names=("galaxy", "run", "log_sigma", "log_sigma_err"))
    assert tied_run_groups(np.asarray(dispersions["galaxy"]), np.asarray(dispersions["run"])) == [[0, 1, 2]]
    subsample, note = without_run(0, clusters, galaxies, dispersions)
    assert subsample is None and note == "without run 0 the runs fall into untied groups [[1], [2]]: left out"
    table = run_realisations("jackknife_run", 0, 3, clusters, galaxies, dispersions, seed=1)
    assert np.isnan(table["vx"][0]) and np.all(np.isfinite(np.asarray(table["vx"][1:])))
    summary = summarise(table, np.zeros(3), np.eye(3))["jackknife_run"]
    assert summary["n"] == 2 and summary["notes"] == [f"realisation 0: {note}"]


def test_the_constants_computed_once_give_the_same_flow_to_the_bit(survey):
    clusters, galaxies, dispersions = survey
    weights = np.random.default_rng(2).integers(0, 3, len(clusters)).astype(float)
    full = analyse_survey(clusters, galaxies, dispersions, cluster_weights=weights)
    lean = analyse_survey(
        clusters,
        galaxies,
        dispersions,
        cluster_weights=weights,
        constants=survey_constants(clusters, galaxies),
        with_table=False,
    )
    assert lean.clusters is None and np.array_equal(lean.flow.vector, full.flow.vector)
    assert np.array_equal(lean.flow.covariance, full.flow.covariance)


def test_an_extinction_map_without_its_column_is_named(survey):
    clusters, galaxies, dispersions = survey
    clusters = clusters.copy()
    clusters.remove_column("extinction_bh")
    with pytest.raises(ValueError, match="no column 'extinction_bh' for the extinction map 'bh'"):
        analyse_survey(clusters, galaxies, dispersions, FlowSettings(extinction_map="bh"))


@pytest.mark.parametrize("kind", ["run_bootstrap", "cluster_bootstrap", "jackknife_cluster"])
def test_realisations_are_the_same_bits_for_any_chunking_and_batch(survey, kind, monkeypatch):
    """Blocks of random numbers of 8 realisations drawn 2 at a time, batches of 3: chunk edges inside and across blocks."""
    import astropipe.flow.resample as resample

    monkeypatch.setattr(resample, "BLOCK", 8)
    monkeypatch.setattr(resample, "DRAW_ROWS", 2)
    whole = run_realisations(kind, 0, 20, *survey, seed=5)
    monkeypatch.setattr(resample, "BATCH_ELEMENTS", 3 * 12 * len(survey[2]))
    pieces = gather([run_realisations(kind, a, b, *survey, seed=5) for a, b in ((0, 7), (7, 9), (9, 17), (17, 20))])
    assert list(pieces["realisation"]) == list(range(20))
    for column in ("vx", "vy", "vz"):
        np.testing.assert_array_equal(whole[column], pieces[column])
    assert len(set(np.asarray(whole["vx"]))) == 20
