"""The HTML report of a complete run, and a run killed mid-way then resumed."""

import os
import signal
import subprocess
import time

import numpy as np
from astropy.table import Table
from conftest import CI_CONFIG, REPO, SNAKEMAKE, copy_products

NIGHT = "2002-07-05"


def test_report_contains_every_figure_table_and_the_configuration(ci_run, tmp_path):
    report = tmp_path / "report.html"
    result = subprocess.run(
        [
            *SNAKEMAKE,
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(ci_run),
            "--configfile",
            str(CI_CONFIG),
            "--report",
            str(report),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR" not in result.stderr, result.stderr[-3000:]  # e.g. broken reStructuredText in a caption
    html = report.read_text()
    figures = sorted((ci_run / "results" / "figures").rglob("*.png"))
    assert len(figures) >= 15
    for figure in figures:
        assert figure.name in html, figure
    # the result tables beside the figures
    for table in ("bulkflow_table.csv", "distance_table.csv", "calibration_table.csv", "classification_table.csv"):
        assert table in html, table
    assert "Configuration" in html and "max_over_mass" in html  # report/workflow.rst renders the validated config


def _wait_for(path, text: str, process, timeout: float) -> None:
    """Until ``path`` exists and contains ``text`` (polled every 0.1 s)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text()):
        assert process.poll() is None, "the run ended before the job to interrupt reached the point"
        assert time.monotonic() < deadline, f"{path} did not contain {text!r} within {timeout} s"
        time.sleep(0.1)


def test_killed_run_resumes_to_identical_results(ci_run, tmp_path):
    """SIGKILL the whole run (Snakemake and its jobs) inside the Ks reduction, re-run, compare with ``ci_run``.

    The night's raw frames, frame list and masters come from ``ci_run``: the run here is the Ks reduction and
    its photometry.
    """
    target = f"results/imaging/{NIGHT}/object11/Ks/catalog.ecsv"
    copy_products(
        ci_run,
        tmp_path,
        f"results/raw/{NIGHT}",
        f"results/truth/{NIGHT}",
        f"results/imaging/{NIGHT}/frames.ecsv",
        f"results/imaging/{NIGHT}/masters",
    )
    command = [
        *SNAKEMAKE,
        "--snakefile",
        str(REPO / "Snakefile"),
        target,
        "--cores",
        "2",
        "--directory",
        str(tmp_path),
        "--configfile",
        str(CI_CONFIG),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        # inside the job: frames calibrated, offsets and sky being computed (seconds before the stack is written)
        _wait_for(tmp_path / f"results/logs/imaging/{NIGHT}/object11_Ks_reduce.log", "calibrated", process, timeout=600)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    stack = tmp_path / f"results/imaging/{NIGHT}/object11/Ks/stack.fits"
    assert not stack.exists(), "the killed reduction left a stack behind"
    assert not (tmp_path / target).exists()
    # what the README tells a user: the kill left Snakemake's lock behind - remove it, then run again
    # (the default profile has rerun-incomplete, so the interrupted job is redone)
    unlock = subprocess.run([*command, "--unlock"], check=False, capture_output=True, text=True, timeout=300)
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    resumed = subprocess.run(command, check=False, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "imaging_ingest" not in resumed.stderr and "imaging_reduce" in resumed.stderr  # from the copied masters
    for name in ("catalog.ecsv", "offsets.ecsv"):
        path = f"results/imaging/{NIGHT}/object11/Ks/{name}"
        again, reference = (
            Table.read(tmp_path / path, format="ascii.ecsv"),
            Table.read(ci_run / path, format="ascii.ecsv"),
        )
        assert again.colnames == reference.colnames and len(again) == len(reference)
        for column in again.colnames:
            np.testing.assert_array_equal(
                np.asarray(again[column]), np.asarray(reference[column]), err_msg=f"{path}:{column}"
            )
