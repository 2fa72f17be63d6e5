"""validation/workflow_runs.py: the Snakemake command the validation scripts run for each night."""

import importlib.util
import sys

import yaml
from conftest import REPO

spec = importlib.util.spec_from_file_location("workflow_runs", REPO / "validation" / "workflow_runs.py")
workflow_runs = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = workflow_runs
spec.loader.exec_module(workflow_runs)


def _command(monkeypatch, tmp_path, **options) -> list[str]:
    seen = []
    monkeypatch.setattr(workflow_runs.subprocess, "run", lambda command, **_: seen.append(command))
    results = workflow_runs.run_workflow(tmp_path / "night", {"imaging": {"seed": 7}}, ["a.json"], 2, **options)
    assert results == tmp_path / "night" / "results"
    assert yaml.safe_load((tmp_path / "night" / "config.yaml").read_text()) == {"imaging": {"seed": 7}}
    return seen[0]


def test_a_night_is_only_brought_up_to_date_by_default(monkeypatch, tmp_path):
    command = _command(monkeypatch, tmp_path)
    assert "--forcerun" not in command
    assert command[3] == "a.json" and command[command.index("--directory") + 1] == str(tmp_path / "night")


def test_the_rules_a_library_change_affects_can_be_run_again(monkeypatch, tmp_path):
    command = _command(monkeypatch, tmp_path, forcerun=["imaging_photometry"])
    assert command[-2:] == ["--forcerun", "imaging_photometry"]


def test_the_scripts_option_lists_the_rules():
    parser = workflow_runs.argparse.ArgumentParser()
    workflow_runs.add_forcerun_argument(parser)
    assert parser.parse_args(["--forcerun", "imaging_photometry", "imaging_cmd"]).forcerun == [
        "imaging_photometry",
        "imaging_cmd",
    ]
    assert parser.parse_args([]).forcerun == []


def test_the_scripts_read_the_configuration_with_the_schemas_defaults():
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    config = workflow_runs.validated_config()
    assert "reduction" not in raw["imaging"]  # left to the schema's default in the shipped file
    assert config["imaging"]["reduction"]["row_crosstalk"] == 1.46e-5
    assert config["imaging"]["seed"] == raw["imaging"]["seed"]
