"""The flow branch on a user's survey tables (flow.input_directory) instead of the simulation."""

import json

import numpy as np
import pytest
import yaml
from astropy.table import Table
from conftest import CI_CONFIG, run_snakemake

from astropipe.flow.peculiar import analyse_survey
from astropipe.flow.survey import SurveySpec, simulate_survey

pytestmark = pytest.mark.workflow


def _user_directory(tmp_path):
    clusters, galaxies, dispersions, _ = simulate_survey(SurveySpec(), np.random.default_rng(99))
    directory = tmp_path / "my_tables"
    directory.mkdir()
    galaxies["galaxy"] = [f"G{g:04d}" for g in galaxies["galaxy"]]
    dispersions["galaxy"] = [f"G{g:04d}" for g in dispersions["galaxy"]]
    clusters.write(directory / "clusters.ecsv", format="ascii.ecsv")
    galaxies.write(directory / "galaxies.csv", format="ascii.csv")
    dispersions.write(directory / "dispersions.csv", format="ascii.csv")
    return directory, analyse_survey(clusters, *simulate_survey(SurveySpec(), np.random.default_rng(99))[1:3]).flow


def _config(tmp_path, directory):
    config = yaml.safe_load(CI_CONFIG.read_text())
    config["flow"].update({"survey": "my_survey", "input_directory": str(directory), "supernovae": None})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_user_tables_run_through_the_flow_rules_without_simulation(tmp_path):
    directory, expected = _user_directory(tmp_path)
    config = _config(tmp_path, directory)
    # the resampling rules read the same input tables as flow_fit: the fit is enough to prove the import
    target = "results/flow/my_survey/bulkflow.json"
    run_snakemake(target, "--cores", "2", "--directory", str(tmp_path), "--configfile", str(config))
    assert "56 clusters, 699 galaxies" in (tmp_path / "results/logs/flow/my_survey/import.log").read_text()
    assert not (tmp_path / "results/logs/flow/my_survey/simulate.log").exists()
    bulkflow = json.loads((tmp_path / "results/flow/my_survey/bulkflow.json").read_text())
    np.testing.assert_allclose(bulkflow["vector_kms"], expected.vector, rtol=1e-9)
    imported = Table.read(tmp_path / "results/flow/my_survey/input/galaxies.ecsv", format="ascii.ecsv")
    assert imported["galaxy_name"][0] == "G0000"
    # the whole default target list: resampling from the imported tables; no truth, no simulation, no recovery
    everything = run_snakemake("-n", "--directory", str(tmp_path), "--configfile", str(config))
    assert "flow_resample_gather" in everything.stdout
    assert "flow_recovery" not in everything.stdout and "flow_simulate_survey" not in everything.stdout


def test_a_defective_user_table_stops_the_job_with_the_reason(tmp_path):
    directory, _ = _user_directory(tmp_path)
    galaxies = Table.read(directory / "galaxies.csv", format="ascii.csv")
    galaxies["morphology"][3] = "Sa"
    galaxies.write(directory / "galaxies.csv", format="ascii.csv", overwrite=True)
    config = _config(tmp_path, directory)
    result = run_snakemake(
        "results/flow/my_survey/bulkflow.json",
        "--cores",
        "1",
        "--directory",
        str(tmp_path),
        "--configfile",
        str(config),
        check=False,
    )
    assert result.returncode != 0
    log = (tmp_path / "results/logs/flow/my_survey/import.log").read_text()
    assert f"{directory}/galaxies.csv: column 'morphology' row 3 is 'Sa'; expected one of ('E', 'S0')" in log
    assert not (tmp_path / "results/flow/my_survey/input/galaxies.ecsv").exists()
