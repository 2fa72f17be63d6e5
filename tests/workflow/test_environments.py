"""Conda environments (envs/*.yaml) stay in step with pyproject.toml."""

import re
import tomllib

import yaml
from conftest import REPO

# conda-only entries that have no pip counterpart in pyproject.toml
CONDA_ONLY = {"python", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_every_conda_package_is_a_declared_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    env_files = sorted((REPO / "envs").glob("*.yaml"))
    assert env_files, "no conda environments in envs/"
    for path in env_files:
        env = yaml.safe_load(path.read_text())
        conda_packages = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
        missing = conda_packages - declared - CONDA_ONLY
        assert not missing, f"{path.name} lists {sorted(missing)} that pyproject.toml does not declare"
        pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
        assert ["-e .."] in pip_sections or any("-e .." in p for p in pip_sections), (
            f"{path.name} must install the astropipe package itself (pip: -e ..)"
        )


def test_rules_name_an_existing_environment():
    for smk in (REPO / "rules").glob("*.smk"):
        for env in re.findall(r'conda:\s*\n\s*"([^"]+)"', smk.read_text()):
            assert (smk.parent / env).resolve().is_file(), f"{smk.name}: conda env {env} not found"
