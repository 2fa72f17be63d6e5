"""The workflow run once per simulated night, in its own directory: shared by the validation scripts."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml
from snakemake.utils import validate

REPO = Path(__file__).resolve().parents[1]


def run_workflow(workdir: Path, config: dict, targets: list[str], cores: int, forcerun: Sequence[str] = ()) -> Path:
    """Bring ``targets`` up to date in ``workdir`` with ``config`` (written there as config.yaml; the job output
    goes to snakemake.log there); returns ``workdir / "results"``.

    ``forcerun``: rules to run again with everything after them (Snakemake's ``--forcerun``). A change of the
    library is no rerun trigger, and deleting an intermediate file is not either while the targets exist:
    after such a change, pass the first rule it affects (e.g. ``imaging_photometry``)."""
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
        *(["--forcerun", *forcerun] if forcerun else []),
    ]
    with open(workdir / "snakemake.log", "w") as log:
        subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT)
    return workdir / "results"


def validated_config() -> dict:
    """The repository's ``config.yaml`` checked against its schema, with the schema's defaults filled in (as the
    workflow reads it)."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    return config


def add_forcerun_argument(parser: argparse.ArgumentParser) -> None:
    """The scripts' ``--forcerun RULE ...`` option, passed on to :func:`run_workflow`."""
    parser.add_argument(
        "--forcerun",
        nargs="+",
        default=[],
        metavar="RULE",
        help="rules to run again with everything after them, e.g. imaging_photometry after a change of the library",
    )
