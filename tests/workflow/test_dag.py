"""The DAG of the default configuration, lint and formatting."""

import re
import subprocess
import sys

from conftest import REPO, run_snakemake

EXPECTED_RULES = {
    "all",
    "lensing_chunk",
    "lensing_gather",
    "lensing_summary",
    "lensing_figures",
    "simulate_calibrations",
    "simulate_standards",
    "simulate_sequence",
    "simulate_reference_catalogue",
    "simulate_truth",
    "imaging_ingest",
    "imaging_masters",
    "imaging_reduce",
    "imaging_photometry",
    "imaging_completeness",
    "imaging_standards",
    "imaging_calibrate",
    "imaging_compare_reference",
    "imaging_cmd",
    "imaging_decontaminate",
    "imaging_distance",
    "simulate_candidate_list",
    "survey_field",
    "survey_classify",
    "flow_simulate_survey",
    "flow_fit",
    "flow_lcdm",
    "flow_resample",
    "flow_resample_gather",
    "flow_recovery",
    "flow_recovery_gather",
    "flow_figures",
    "flow_supernovae",
}


def _job_counts(output: str) -> dict[str, int]:
    counts = {}
    for line in output.splitlines():
        match = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if match and match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
    return counts


def test_dry_run_of_default_config_lists_expected_rules(tmp_path):
    result = run_snakemake("-n", "--directory", str(tmp_path), "--configfile", str(REPO / "config.yaml"))
    counts = _job_counts(result.stdout)
    assert set(counts) == EXPECTED_RULES
    assert counts["lensing_chunk"] == 4  # lensing.chunks in config.yaml
    assert counts["simulate_sequence"] == 2 + 20  # Object 11 in H and Ks + 20 survey fields in Ks
    # Object 11 in H and Ks + every survey field in Ks
    assert counts["imaging_reduce"] == counts["imaging_photometry"] == 2 + 20
    assert counts["survey_field"] == 20 and counts["survey_classify"] == 1


def test_rulegraph_is_produced(tmp_path):
    result = run_snakemake(
        "--rulegraph", "dot", "--directory", str(tmp_path), "--configfile", str(REPO / "config.yaml")
    )
    assert result.stdout.lstrip().startswith("digraph")
    for rule in EXPECTED_RULES:
        assert rule in result.stdout


def test_lint_reports_nothing():
    result = run_snakemake("--lint", cwd=REPO)
    assert "Congratulations, your workflow is in a good condition" in result.stdout + result.stderr


def test_snakefmt_check_is_clean():
    files = [str(REPO / "Snakefile"), *map(str, sorted((REPO / "rules").glob("*.smk")))]
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", *files], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_check_is_clean():
    """The Python code passes the rule set pinned in pyproject.toml (pyflakes, bugbear, import order, ...)."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(REPO)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_the_code_unchanged():
    """The Python code is formatted by ruff format (line length 120, pyproject.toml)."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", str(REPO)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_real_data_without_reference_tables_is_refused_with_a_message(tmp_path):
    """With imaging.raw_directory the 2MASS catalogue and candidate list must come from the user, not the simulator."""
    import yaml

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "SOFI.2002-07-05T01:23:45.678.fits").write_bytes(b"")  # a dry run reads no frame
    config["imaging"]["raw_directory"] = str(raw)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = run_snakemake(
        "-n", "--directory", str(tmp_path), "--configfile", str(tmp_path / "config.yaml"), check=False
    )
    assert result.returncode != 0
    assert "not found: with real data (imaging.raw_directory) put it there" in result.stdout + result.stderr
