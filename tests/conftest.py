"""Shared fixtures: paths and a helper that runs Snakemake as a user would."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from snakemake_process import snakemake_command

REPO = Path(__file__).resolve().parents[1]
CI_CONFIG = REPO / "tests" / "config-ci.yaml"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def run_snakemake(
    *args: str, cwd: Path = REPO, check: bool = True, timeout: float = 900, snakefile: Path = REPO / "Snakefile"
) -> subprocess.CompletedProcess:
    """Run ``snakemake`` with this interpreter (forked from a process that has imported it: see
    ``snakemake_process``); return the completed process (text output)."""
    result = snakemake_command(["--snakefile", str(snakefile), *args], cwd, timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def copy_products(run: Path, workdir: Path, *paths: str) -> None:
    """Copy the products ``paths`` (files or directories, relative to ``run``) of a finished run into ``workdir``.

    Modification times are kept, so Snakemake in ``workdir`` finds them up to date and schedules only
    what lies downstream (there is no provenance record of them there to compare settings against).
    """
    for path in paths:
        source, target = run / path, workdir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, copy_function=shutil.copy2)
        else:
            shutil.copy2(source, target)


#: fixtures whose workflow run many modules share: their modules stay on one pytest-xdist worker
SHARED_RUNS = ("ci_run", "object11_run")


def _shared_run_of_each_module() -> dict[str, str]:
    """Test module (path from the repository) -> the shared run one of its functions takes, if any."""
    groups = {}
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                taken = [arg.arg for arg in node.args.args if arg.arg in SHARED_RUNS]
                if taken:
                    groups[path.relative_to(REPO).as_posix()] = taken[0]
                    break
    return groups


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # optional: the suite also runs without xdist
def pytest_xdist_make_scheduler(config, log):
    """Under ``pytest -n N`` (``make test``) whole modules go to one worker, and the modules that share a workflow
    run (the CI-config run, Object 11's default night) go to the same worker, so no run is built twice."""
    from xdist.scheduler import LoadScopeScheduling

    groups = _shared_run_of_each_module()

    class SharedRunScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return groups.get(module, module)

    return SharedRunScheduling(config, log)


@pytest.fixture(scope="package")  # tests/ and everything below it: built once per run
def repo() -> Path:
    return REPO


@pytest.fixture(scope="package")  # tests/ and everything below it: built once per run
def ci_run(tmp_path_factory) -> Path:
    """A complete local run of the CI configuration (every rule), shared by the workflow tests."""
    workdir = tmp_path_factory.mktemp("ci_run")
    run_snakemake("--cores", "2", "--directory", str(workdir), "--configfile", str(CI_CONFIG))
    return workdir


@pytest.fixture(scope="package")  # tests/ and everything below it: built once per run
def object11_run(tmp_path_factory) -> Path:
    """The workflow on the default configuration up to Object 11's summary (survey fields off), with its truth.

    Shared by the reduction/photometry checks and the calibration/CMD/distance checks.
    """
    import yaml

    workdir = tmp_path_factory.mktemp("object11_run")
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["imaging"]["survey"]["n_fields"] = 0
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    night = config["imaging"]["night"]
    targets = [f"results/imaging/{night}/object11/{name}" for name in ("summary.json", "reference_comparison.json")]
    targets += [f"results/truth/{night}/{name}" for name in ("stars.ecsv", "scene.json", "response.fits")]
    run_snakemake(
        *targets,
        "--cores",
        "2",
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        timeout=1500,
    )
    return workdir
