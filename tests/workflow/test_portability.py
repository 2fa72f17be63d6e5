"""The workflow runs for a stranger: a plain clone with nothing beside it, any working directory,
and a change of one setting reruns only the jobs that use it."""

import re
import shutil
import subprocess

import pytest
import yaml
from conftest import CI_CONFIG, REPO, run_snakemake

pytestmark = pytest.mark.workflow


def _tracked_copy(destination):
    """The files a clone would have (tracked or not ignored, as they are in the work tree)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout
    for name in filter(None, files.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="module")
def plain_clone(tmp_path_factory):
    """A copy of the repository in a directory with no ``shared`` beside it."""
    clone = _tracked_copy(tmp_path_factory.mktemp("stranger") / "astropipe")
    assert not (clone.parent / "shared").exists()
    return clone


def _jobs(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[-1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def test_a_plain_clone_plans_the_whole_default_run_from_its_own_files(plain_clone):
    result = run_snakemake("-n", "--directory", str(plain_clone), cwd=plain_clone, snakefile=plain_clone / "Snakefile")
    jobs = _jobs(result.stdout)
    assert jobs["flow_supernovae"] == 1 and jobs["simulate_sequence"] == 22 and jobs["imaging_standards"] == 1
    assert "../shared" not in result.stdout + result.stderr and "/shared/data" not in result.stdout + result.stderr


def test_a_plain_clone_runs_the_jobs_that_read_the_shipped_tables(plain_clone):
    """The Pantheon+ table and the reference tables (standards, dwarf sequence, Cotera values) ship with it."""
    targets = ["results/flow/pantheonplus/bulkflow.json", "results/raw/2002-07-05/reference/object11_2mass.ecsv"]
    run_snakemake(
        *targets, "--cores", "2", "--configfile", str(CI_CONFIG), cwd=plain_clone, snakefile=plain_clone / "Snakefile"
    )
    for target in targets:
        assert (plain_clone / target).is_file()


def test_any_working_directory_with_the_default_config_found_beside_the_snakefile(tmp_path):
    elsewhere, workdir = tmp_path / "elsewhere", tmp_path / "scratch" / "run"
    elsewhere.mkdir()
    # no --configfile: config.yaml is found beside the Snakefile, not in the working directory
    planned = run_snakemake("-n", "--directory", str(workdir), cwd=elsewhere)
    assert _jobs(planned.stdout)["lensing_chunk"] == 4
    my_config = tmp_path / "my.yaml"
    my_config.write_text(CI_CONFIG.read_text())
    run_snakemake(
        "results/lensing/grid.ecsv",
        "--cores",
        "2",
        "--directory",
        str(workdir),
        "--configfile",
        str(my_config),
        cwd=elsewhere,
    )
    assert (workdir / "results/lensing/grid.ecsv").is_file()
    assert not (elsewhere / "results").exists()


def _changed_config(tmp_path, change):
    config = yaml.safe_load(CI_CONFIG.read_text())
    change(config)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    ("change", "allowed", "kept"),
    [
        (
            lambda c: c["flow"]["recovery"].update(surveys=31),
            {"flow_recovery", "flow_recovery_gather"},
            {"flow_resample", "flow_fit"},
        ),
        (
            lambda c: c["flow"].update(minimum_variance_radius_kms=4000.0),
            {"flow_lcdm"},
            {"flow_fit", "flow_resample", "flow_supernovae"},
        ),
        (
            lambda c: c["imaging"].setdefault("photometry", {}).setdefault("artificial_stars", {}).update(rounds=5),
            {"imaging_completeness", "imaging_cmd", "imaging_decontaminate", "imaging_distance"},
            {"imaging_photometry", "imaging_reduce"},
        ),
        (
            lambda c: c["imaging"]["cmd"]["decontamination"].update(repeats=21),
            {"imaging_decontaminate", "imaging_distance"},
            {"imaging_cmd"},
        ),
        (
            lambda c: (
                c["imaging"].setdefault("survey_analysis", {}).setdefault("classification", {}).update(light_p=0.03)
            ),
            {"survey_classify"},
            {"survey_field"},
        ),
    ],
)
def test_a_changed_setting_reruns_only_the_jobs_that_use_it(ci_run, tmp_path, change, allowed, kept):
    result = run_snakemake("-n", "--directory", str(ci_run), "--configfile", str(_changed_config(tmp_path, change)))
    scheduled = set(_jobs(result.stdout)) - {"all"}
    assert scheduled, "the change must rerun something"
    assert scheduled <= allowed, f"rerun beyond the setting's users: {sorted(scheduled - allowed)}"
    assert not scheduled & kept


def test_make_clean_results_removes_every_result_and_its_metadata(plain_clone):
    (plain_clone / "results" / "flow" / "x").mkdir(parents=True, exist_ok=True)
    (plain_clone / "results" / "flow" / "x" / "bulkflow.json").write_text("{}")
    (plain_clone / ".snakemake" / "metadata").mkdir(parents=True, exist_ok=True)
    (plain_clone / ".snakemake" / "conda").mkdir(parents=True, exist_ok=True)
    subprocess.run(["make", "clean-results"], cwd=plain_clone, check=True, capture_output=True)
    assert sorted(p.name for p in (plain_clone / "results").iterdir()) == [".gitkeep"]
    assert not (plain_clone / ".snakemake" / "metadata").exists() and (plain_clone / ".snakemake" / "conda").exists()


@pytest.mark.parametrize("argument", ["--dag", "--summary"])
def test_the_readme_inspection_commands_work(argument, tmp_path):
    result = run_snakemake(argument, *(["dot"] if argument == "--dag" else []), "--directory", str(tmp_path))
    assert result.stdout.lstrip().startswith("digraph" if argument == "--dag" else "output_file")
