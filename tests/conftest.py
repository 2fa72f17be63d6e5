"""Shared fixtures: paths and a helper that runs Snakemake as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CI_CONFIG = REPO / "tests" / "config-ci.yaml"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def run_snakemake(*args: str, cwd: Path = REPO, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run ``snakemake`` with this interpreter; return the completed process (text output)."""
    result = subprocess.run(
        [*SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def ci_run(tmp_path_factory) -> Path:
    """A complete local run of the CI configuration (every rule), shared by the workflow tests."""
    workdir = tmp_path_factory.mktemp("ci_run")
    run_snakemake("--cores", "2", "--directory", str(workdir), "--configfile", str(CI_CONFIG))
    return workdir
