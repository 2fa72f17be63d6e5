"""How long Snakemake takes to build the DAG of a survey-sized configuration.

Survey-sized: the 57 candidate fields of Dutra et al. 2003 (18 exposures each in Ks),
Object 11 in H and Ks (15 exposures each), and 10,000 bootstrap realisations
per resampling kind in 100 chunks. Peer: the default configuration (20
fields, 1,000 realisations in 4 chunks) in the same run. Measures
``snakemake -n`` (median of 3, in a fresh directory, so every job is
pending), ``--rulegraph`` and ``--dag``, and prints the job count.

Run: python benchmarks/dag_dry_run.py
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def survey_sized_config() -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["imaging"]["survey"].update({"n_fields": 57, "nexp": 18})
    config["flow"]["resampling"].update({"bootstrap": 10000, "chunks": 100})
    return config


def timed(args: list[str], workdir: Path, configfile: Path) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            *args,
            "--directory",
            str(workdir),
            "--configfile",
            str(configfile),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, result.stdout


def jobs(output: str) -> int:
    match = re.search(r"^total\s+(\d+)$", output, flags=re.MULTILINE)
    return int(match.group(1)) if match else -1


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        survey_dir, default_dir = tmp / "survey", tmp / "default"
        survey_dir.mkdir()
        default_dir.mkdir()
        survey_config, default_config = tmp / "survey.yaml", tmp / "default.yaml"
        survey_config.write_text(yaml.safe_dump(survey_sized_config()))
        config = yaml.safe_load((REPO / "config.yaml").read_text())
        default_config.write_text(yaml.safe_dump(config))
        runs = {}
        for name, workdir, configfile in (
            ("survey", survey_dir, survey_config),
            ("default", default_dir, default_config),
        ):
            times, output = [], ""
            for _ in range(3):
                seconds, output = timed(["-n"], workdir, configfile)
                times.append(seconds)
            runs[name] = (statistics.median(times), jobs(output))
            print(f"{name}: snakemake -n {runs[name][0]:.2f} s for {runs[name][1]} jobs")
        for flag in ("--rulegraph", "--dag"):
            seconds, _ = timed([flag, "dot"], survey_dir, survey_config)
            print(f"survey: snakemake {flag} {seconds:.2f} s")
    (survey_time, survey_jobs), (default_time, default_jobs) = runs["survey"], runs["default"]
    print(
        f"dag_dry_run: seconds {survey_time:.2f} ({survey_jobs} jobs) vs default-config {default_time:.2f} "
        f"({default_jobs} jobs), ratio {default_time / survey_time:.2f}"
    )


if __name__ == "__main__":
    main()
