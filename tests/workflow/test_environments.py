"""Software deployment: the conda environments (envs/*.yaml) are complete and need no install of the library.

Every rule names a conda environment that lists third-party packages only; the library comes from the
workflow's ``src/`` (``rules/common.smk`` exports it on ``PYTHONPATH``). Conda channels are not
reachable on the test machines, so the environments are proven with plain virtual environments
holding exactly the packages an env file lists (at the locked versions) plus Snakemake, which runs the
jobs: the library is not installed there.
"""

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import CI_CONFIG, REPO

# conda names of packages whose import name differs
IMPORT_TO_PACKAGE = {"yaml": "pyyaml", "skimage": "scikit-image"}
# conda-only entries that have no counterpart among the imports
CONDA_ONLY = {"python", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _requirements(path: Path) -> list[str]:
    """Every requirement of an env file: conda packages and those of its pip section."""
    requirements = []
    for entry in yaml.safe_load(path.read_text())["dependencies"]:
        requirements += entry["pip"] if isinstance(entry, dict) else [entry]
    return requirements


def _env_packages(path: Path) -> set[str]:
    return {_name(d) for d in _requirements(path)}


def _rules() -> list[tuple[str, Path, Path]]:
    """(rule, script, env file) of every rule that runs a script."""
    found = []
    for smk in sorted((REPO / "rules").glob("*.smk")):
        for match in re.finditer(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", smk.read_text(), re.S | re.M):
            body = match.group(2)
            script = re.search(r'script:\s*\n\s*"([^"]+)"', body)
            env = re.search(r'conda:\s*\n\s*"([^"]+)"', body)
            if script:
                assert env, f"{smk.name}: rule {match.group(1)} runs a script but names no conda environment"
                found.append(
                    (match.group(1), (smk.parent / script.group(1)).resolve(), (smk.parent / env.group(1)).resolve())
                )
    return found


def _library_module(name: str) -> Path | None:
    base = REPO / "src" / Path(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, seen: set[Path]) -> tuple[set[str], set[str]]:
    """(third-party top-level modules, library modules) imported by ``path``, following the library's imports."""
    if path in seen:
        return set(), set()
    seen.add(path)
    third_party, library = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top == "astropipe":
                parts = name.split(".")
                for depth in range(1, len(parts) + 1):
                    module = _library_module(".".join(parts[:depth]))
                    if module is not None:
                        library.add(".".join(parts[:depth]))
                        more_third, more_library = _imports(module, seen)
                        third_party |= more_third
                        library |= more_library
            elif top not in sys.stdlib_module_names and top not in ("__future__", "snakemake"):
                third_party.add(IMPORT_TO_PACKAGE.get(top, top))
    return third_party, library


def test_env_files_list_only_third_party_packages_declared_by_the_project():
    declared = {_name(r) for r in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]}
    env_files = sorted((REPO / "envs").glob("*.yaml"))
    assert env_files, "no conda environments in envs/"
    for path in env_files:
        for requirement in _requirements(path):
            assert not requirement.startswith(("-e", ".", "/")) and "astropipe" not in requirement, (
                f"{path.name}: {requirement!r}: the library is imported from src/, never installed"
            )
        assert not (_env_packages(path) - declared - CONDA_ONLY), (
            f"{path.name}: packages pyproject.toml does not declare"
        )


def test_every_rule_environment_covers_the_imports_of_its_script():
    for rule, script, env in _rules():
        needed, _ = _imports(script, set())
        missing = needed - _env_packages(env)
        assert not missing, f"rule {rule} ({script.name}) imports {sorted(missing)}, which {env.name} does not list"


def _fresh_environment(env: Path, directory: Path) -> Path:
    """A new virtual environment with exactly the env file's packages (locked versions) and Snakemake."""
    packages = sorted(_env_packages(env) - CONDA_ONLY)
    venv = directory / env.stem
    uv = [sys.executable, "-m", "uv"]
    subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    result = subprocess.run(
        [
            *uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "--constraint",
            str(REPO / "requirements.lock"),
            "snakemake",
            *packages,
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(
            f"cannot build the test environment for {env.name} (package index unreachable?): {result.stderr[-500:]}"
        )
    return venv


TARGETS = {
    "lensing": ["results/lensing/grid.ecsv"],
    "flow": ["results/flow/smac_sim/bulkflow.json"],
    "imaging": ["results/raw/2002-07-05/reference/object11_2mass.ecsv"],
}


@pytest.mark.workflow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_rules_run_in_an_environment_holding_only_the_env_file(name, tmp_path):
    env = REPO / "envs" / f"{name}.yaml"
    venv = _fresh_environment(env, tmp_path)
    python = venv / "bin" / "python"
    # as a user's shell would have it; bytecode is written, so that Snakemake and each job do not compile
    # astropy, scipy and Snakemake again (the fresh environment has no bytecode of its own)
    outside = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    clean = {key: value for key, value in os.environ.items() if key not in outside}
    installed = subprocess.run(
        [str(python), "-c", "import importlib.util; print(importlib.util.find_spec('astropipe'))"],
        check=True,
        capture_output=True,
        text=True,
        env=clean,
    ).stdout
    assert installed.strip() == "None", "the library must not be installed in the test environment"
    # every library module the env's rules import, imported with the env's packages only
    modules = sorted(set().union(*(_imports(script, set())[1] for _, script, e in _rules() if e == env)))
    subprocess.run(
        [str(python), "-c", "; ".join(f"import {m}" for m in modules)],
        check=True,
        env={**clean, "PYTHONPATH": str(REPO / "src")},
    )
    # and a few of its rules through Snakemake, from another working directory
    workdir = tmp_path / "run"
    result = subprocess.run(
        [
            str(venv / "bin" / "snakemake"),
            *TARGETS[name],
            "--snakefile",
            str(REPO / "Snakefile"),
            "--cores",
            "2",
            "--directory",
            str(workdir),
            "--configfile",
            str(CI_CONFIG),
        ],
        check=False,
        capture_output=True,
        text=True,
        env=clean,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    for target in TARGETS[name]:
        assert (workdir / target).is_file()


def test_rules_name_an_existing_environment():
    for rule, _, env in _rules():
        assert env.is_file(), f"rule {rule}: conda env {env} not found"
