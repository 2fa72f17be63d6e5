"""A user's FP survey tables: the documented format round-trips, and every defect is named."""

import re

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table

from astropipe.flow.input_tables import InputTableError, read_survey
from astropipe.flow.peculiar import analyse_survey
from astropipe.flow.survey import SurveySpec, simulate_survey


@pytest.fixture(scope="module")
def survey():
    clusters, galaxies, dispersions, _ = simulate_survey(
        SurveySpec(n_clusters=20, n_galaxies=200), np.random.default_rng(4)
    )
    return clusters, galaxies, dispersions


def _as_user_tables(survey, directory, suffix=".csv"):
    """The simulated survey as a user would write it: named galaxies and runs, rows in another order."""
    clusters, galaxies, dispersions = (t.copy() for t in survey)
    galaxies["galaxy"] = [f"NGC{1000 + g}" for g in galaxies["galaxy"]]
    dispersions["galaxy"] = [f"NGC{1000 + g}" for g in dispersions["galaxy"]]
    dispersions["run"] = [f"run-{chr(65 + r)}" for r in dispersions["run"]]
    dispersions = dispersions[np.random.default_rng(0).permutation(len(dispersions))]
    format_ = {".csv": "ascii.csv", ".ecsv": "ascii.ecsv"}[suffix]
    for name, table in (("clusters", clusters), ("galaxies", galaxies), ("dispersions", dispersions)):
        table.write(directory / f"{name}{suffix}", format=format_, overwrite=True)
    return clusters, galaxies, dispersions


def test_user_tables_give_the_same_flow_as_the_simulated_ones(survey, tmp_path):
    _as_user_tables(survey, tmp_path)
    clusters, galaxies, dispersions = read_survey(tmp_path)
    assert list(galaxies["galaxy"]) == list(range(len(galaxies)))
    assert galaxies["galaxy_name"][3] == "NGC1003" and set(dispersions["run_name"]) >= {"run-A", "run-L"}
    direct = analyse_survey(*survey).flow
    imported = analyse_survey(clusters, galaxies, dispersions).flow
    # the run labels are renumbered (alphabetically, as the simulation numbered them): the same solution
    np.testing.assert_allclose(imported.vector, direct.vector, rtol=1e-9)
    np.testing.assert_allclose(imported.covariance, direct.covariance, rtol=1e-9)


def test_ecsv_units_are_converted(survey, tmp_path):
    clusters, _, _ = _as_user_tables(survey, tmp_path, ".ecsv")
    (tmp_path / "clusters.ecsv").unlink()
    radians = clusters.copy()
    radians["l"] = (np.asarray(clusters["l"]) * u.deg).to(u.rad)
    radians["cz_helio"] = (np.asarray(clusters["cz_helio"]) * u.km / u.s).to(u.m / u.s)
    radians.write(tmp_path / "clusters.ecsv", format="ascii.ecsv")
    imported, _, _ = read_survey(tmp_path)
    np.testing.assert_allclose(imported["l"], clusters["l"], rtol=1e-12)
    np.testing.assert_allclose(imported["cz_helio"], clusters["cz_helio"], rtol=1e-12)


def _break(survey, tmp_path, name, change):
    tables = dict(zip(("clusters", "galaxies", "dispersions"), _as_user_tables(survey, tmp_path), strict=True))
    table = change(tables[name].copy())
    table.write(tmp_path / f"{name}.csv", format="ascii.csv", overwrite=True)
    with pytest.raises(InputTableError) as error:
        read_survey(tmp_path)
    return str(error.value)


def _set(column, row, value):
    def change(table):
        table[column] = table[column].astype(object) if isinstance(value, str) else table[column]
        table[column][row] = value
        return table

    return change


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        (
            "clusters",
            lambda t: t[[c for c in t.colnames if c != "cz_err"]],
            "column 'cz_err' (error of cz_helio) is missing",
        ),
        ("clusters", _set("b", 4, 95.0), "column 'b' row 4 is 95.0 deg; expected a number in [-90.0, 90.0]"),
        (
            "galaxies",
            _set("log_theta_err", 7, -0.02),
            "column 'log_theta_err' row 7 is -0.02; expected a positive number",
        ),
        ("galaxies", _set("mu_e", 2, np.nan), "column 'mu_e' row 2 is nan"),
        ("galaxies", _set("morphology", 0, "Sa"), "column 'morphology' row 0 is 'Sa'; expected one of ('E', 'S0')"),
        ("galaxies", _set("cluster", 5, "Coma"), "column 'cluster' names 'Coma', which is not in"),
        ("galaxies", _set("galaxy", 1, "NGC1000"), "galaxy 'NGC1000' appears 2 times"),
        ("dispersions", _set("galaxy", 0, "NGC9999"), "column 'galaxy' names 'NGC9999'"),
        ("dispersions", lambda t: t[t["galaxy"] != "NGC1010"], "galaxy 'NGC1010' (row 10) has no velocity dispersion"),
    ],
)
def test_each_defect_is_reported_with_file_column_row_and_value(survey, tmp_path, name, change, expected):
    message = _break(survey, tmp_path, name, change)
    assert expected in message
    assert str(tmp_path) in message


def test_a_cluster_with_one_galaxy_is_refused(survey, tmp_path):
    first = survey[0]["cluster"][0]

    def keep_one(table):
        drop = np.flatnonzero(table["cluster"] == first)[1:]
        table.remove_rows(drop)
        return table

    tables = dict(zip(("clusters", "galaxies", "dispersions"), _as_user_tables(survey, tmp_path), strict=True))
    galaxies = keep_one(tables["galaxies"].copy())
    galaxies.write(tmp_path / "galaxies.csv", format="ascii.csv", overwrite=True)
    kept = np.isin(tables["dispersions"]["galaxy"], galaxies["galaxy"])
    tables["dispersions"][kept].write(tmp_path / "dispersions.csv", format="ascii.csv", overwrite=True)
    with pytest.raises(InputTableError, match=f"fewer than 2 galaxies cannot have an FP distance: \\['{first}'\\]"):
        read_survey(tmp_path)


def test_runs_not_tied_together_are_refused(survey, tmp_path):
    tables = dict(zip(("clusters", "galaxies", "dispersions"), _as_user_tables(survey, tmp_path), strict=True))
    dispersions = tables["dispersions"]
    # galaxies measured in run-A: keep only their run-A measurement, so run-A shares no galaxy with other runs
    in_a = set(dispersions["galaxy"][dispersions["run"] == "run-A"])
    keep = [(g not in in_a) or (r == "run-A") for g, r in zip(dispersions["galaxy"], dispersions["run"], strict=True)]
    dispersions[np.array(keep)].write(tmp_path / "dispersions.csv", format="ascii.csv", overwrite=True)
    with pytest.raises(InputTableError, match=r"runs fall into 2 groups .*\['run-A'\]"):
        read_survey(tmp_path)


def test_missing_or_ambiguous_files_are_named(survey, tmp_path):
    _as_user_tables(survey, tmp_path)
    Table({"x": [1]}).write(tmp_path / "galaxies.ecsv", format="ascii.ecsv")
    with pytest.raises(InputTableError, match=re.escape("more than one of galaxies.ecsv, galaxies.csv")):
        read_survey(tmp_path)
    (tmp_path / "galaxies.ecsv").unlink()
    (tmp_path / "clusters.csv").unlink()
    with pytest.raises(InputTableError, match=re.escape("none of clusters.ecsv, clusters.csv")):
        read_survey(tmp_path)
