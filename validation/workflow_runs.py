"""The workflow run once per simulated night, in its own directory: shared by the validation scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def run_workflow(workdir: Path, config: dict, targets: list[str], cores: int) -> Path:
    """Bring ``targets`` up to date in ``workdir`` with ``config`` (written there as config.yaml; the job output
    goes to snakemake.log there); returns ``workdir / "results"``."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    command = [
        sys.executable,
        "-m",
        "snakemake",
        *targets,
        "-s",
        str(REPO / "Snakefile"),
        "--cores",
        str(cores),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
    ]
    with open(workdir / "snakemake.log", "w") as log:
        subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT)
    return workdir / "results"
