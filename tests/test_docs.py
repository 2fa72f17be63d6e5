"""The documentation site builds without a warning, draws its validation figures, and its configuration reference
is the schema's."""

import subprocess
import sys

import yaml
from conftest import REPO
from snakemake.utils import validate

sys.path.insert(0, str(REPO / "docs" / "_ext"))
from config_reference import render  # the site's own extensions
from rule_map import library_calls, rule_scripts

SCHEMA = REPO / "schemas" / "config.schema.yaml"


def _leaves(config: dict, prefix: str = ""):
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from _leaves(value, path)  # an empty section sets nothing
        else:
            yield path, value


def _schema_defaults() -> dict:
    defaults: dict = {}
    validate(defaults, str(SCHEMA), set_default=True)
    return defaults


def test_site_builds_with_warnings_as_errors(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(REPO / "docs"),
            str(tmp_path / "html"),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    api = (tmp_path / "html" / "_generated" / "api" / "astropipe.photometry.fitting.html").read_text()
    assert "fit_stars" in api and "freeze_after" in api  # the API reference is generated from the docstrings
    # every validation figure script is drawn into the page that shows it
    scripts = sorted(path.stem for path in (REPO / "docs" / "plots").glob("*.py"))
    assert scripts
    for stem in scripts:
        assert (tmp_path / "html" / "_images" / f"{stem}.png").stat().st_size > 10_000, stem
        assert any(f"plots/{stem}.py" in page.read_text() for page in (REPO / "docs").glob("*.md")), stem


def test_reference_lists_every_key_with_the_default_the_workflow_uses():
    rows = {}
    for line in render().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        rows[cells[0].strip("`")] = cells[2]
    for path, value in _leaves(_schema_defaults()):
        if path not in rows:  # an entry of a map (e.g. the sequences per band): its map's row shows it
            parent = path.rsplit(".", 1)[0]
            while parent not in rows:
                parent = parent.rsplit(".", 1)[0]
            assert rows[parent], (path, parent)
        elif not isinstance(value, list | dict) and value is not None:
            shown = (
                f"{value:g}"
                if isinstance(value, float)
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
            assert rows[path].strip("`").strip('"') == shown, (path, rows[path], value)


def test_the_default_run_repeats_the_schema_defaults():
    """config.yaml, the embedded default run, sets nothing the schema's defaults do not already say, except
    its own content: the physical lensing examples, the field-name map and the supernova survey."""
    defaults = dict(_leaves(_schema_defaults()))
    differing = {
        path
        for path, value in _leaves(yaml.safe_load((REPO / "config.yaml").read_text()))
        if defaults.get(path, "no default") != value
    }
    own = {
        "lensing.examples",
        "imaging.field_names.Object 11",
        "flow.supernovae.name",
        "flow.supernovae.z_min",
        "flow.supernovae.z_max",
    }
    assert differing == own, differing


def test_every_rule_reaches_the_library_in_two_hops():
    """Each rule runs a script that calls the library (rule -> script -> function), and the names the map
    shows exist."""
    import importlib.util

    mapped = rule_scripts()
    assert len(mapped) >= 30
    for rule_file, rule, script in mapped:
        calls = library_calls(script)
        assert calls, f"{rule_file}: rule {rule} runs {script.name}, which calls nothing in the library"
        for name in calls:  # a function or class of a module, or a module of a package
            module, _, attribute = name.rpartition(".")
            assert hasattr(importlib.import_module(module), attribute) or importlib.util.find_spec(name), name
