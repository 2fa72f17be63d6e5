"""The workflow through a real Slurm: the resampling branch and a small imaging run.

A single-node Slurm is started here (``slurm_node.py``); the same targets of
the CI configuration run locally (the shared ``ci_run``) and through
the README's site profile template (``profiles/slurm-site``) with the workflow
profile's groups and the rules' resources, and the results must be identical. The imaging part starts
from the local run's raw frames, as a user's run starts from the telescope's: ingest, masters, reduction
and photometry go to Slurm. Outside CI the test skips with
the reason when Slurm cannot be started; in CI (``ASTROPIPE_REQUIRE_SLURM=1``,
set by ``.ci/run``) it fails instead.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table
from conftest import CI_CONFIG, REPO, copy_products, run_snakemake

from cluster.slurm_node import SlurmNode, SlurmUnavailable, node_memory_mb

NIGHT = "2002-07-05"
JSON_RESULTS = ["results/flow/smac_sim/bulkflow.json", "results/flow/smac_sim/resampling.json"]
TABLE_RESULTS = [
    "results/flow/smac_sim/clusters.ecsv",
    f"results/imaging/{NIGHT}/object11/Ks/catalog.ecsv",
    f"results/imaging/{NIGHT}/object11/Ks/offsets.ecsv",
]


@pytest.fixture(scope="module")
def slurm():
    node = SlurmNode()
    try:
        node.start()
    except SlurmUnavailable as problem:
        node.stop()
        if os.environ.get("ASTROPIPE_REQUIRE_SLURM") == "1":
            pytest.fail(f"Slurm is required here (ASTROPIPE_REQUIRE_SLURM=1) but could not be started: {problem}")
        pytest.skip(f"no Slurm: {problem}")
    yield node
    node.stop()


def site_profile(directory: Path) -> Path:
    """The README's site profile template, filled in as a user would for this single-node Slurm."""
    template = (REPO / "profiles" / "slurm-site" / "config.yaml").read_text()
    assert '"<partition>"' in template and 'slurm_account: "<account>"' in template
    text = template.replace('"<partition>"', "debug").replace('  slurm_account: "<account>"', "")
    text = text.replace("# slurm-no-account: true", "slurm-no-account: true")
    text = text.replace("# slurm-status-command: squeue", "slurm-status-command: squeue")
    profile = directory / "site"
    profile.mkdir()
    (profile / "config.yaml").write_text(text)
    return profile


@pytest.fixture(scope="module")
def slurm_run(ci_run, slurm, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm_run")
    copy_products(ci_run, workdir, f"results/raw/{NIGHT}", f"results/truth/{NIGHT}")
    profile = site_profile(tmp_path_factory.mktemp("profiles"))
    # the README's command: the site profile, the workflow profile (found beside the Snakefile) and
    # --cores/--resources with the size of one node, so that group jobs are stacked to fit it
    result = run_snakemake(
        *JSON_RESULTS,
        *TABLE_RESULTS,
        "--profile",
        str(profile),
        "--cores",
        str(os.cpu_count()),
        "--resources",
        f"mem_mb={min(8000, node_memory_mb() // 2)}",
        "--jobs",
        "4",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--directory",
        str(workdir),
        "--configfile",
        str(CI_CONFIG),
        timeout=1200,
    )
    return workdir, result.stdout + result.stderr


def test_jobs_ran_as_slurm_jobs_in_groups(slurm_run):
    _, output = slurm_run
    assert "submitted with SLURM jobid" in output
    # the profile's groups: the resampling chunks went out as one job
    assert "Group job resampling" in output
    assert "imaging_reduce" in output and "simulate_sequence" not in output  # from the copied raw frames


def test_results_are_identical_to_the_local_run(slurm_run, ci_run):
    workdir, _ = slurm_run
    for path in JSON_RESULTS:
        assert json.loads((workdir / path).read_text()) == json.loads((ci_run / path).read_text()), path
    for path in TABLE_RESULTS:
        remote, local = Table.read(workdir / path, format="ascii.ecsv"), Table.read(ci_run / path, format="ascii.ecsv")
        assert remote.colnames == local.colnames and len(remote) == len(local), path
        for name in remote.colnames:
            if remote[name].dtype.kind == "f":
                np.testing.assert_array_equal(
                    np.asarray(remote[name]), np.asarray(local[name]), err_msg=f"{path}:{name}"
                )
            else:
                assert list(remote[name]) == list(local[name]), f"{path}:{name}"
