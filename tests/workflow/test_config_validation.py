"""The configuration is validated before any job: clear messages, defaults from the schema."""

import copy
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_snakemake
from snakemake.utils import validate

from astropipe.config_check import ConfigError, check_config

SCHEMA = REPO / "schemas" / "config.schema.yaml"


def _default_config():
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["lensing"].update(speeds="fast"), "lensing.speeds = 'fast': expected type array"),
        (
            lambda c: c["lensing"]["speeds"].__setitem__(1, 1.5),
            "lensing.speeds[1] = 1.5: 1.5 is greater than the maximum of 1",
        ),
        (lambda c: c["lensing"].update(chunks=0), "lensing.chunks = 0: 0 is less than the minimum of 1"),
        (lambda c: c["lensing"].update(chunk=3), "lensing: unknown key(s) ['chunk']"),
        (lambda c: c.update(lensin={}), "<top level>: unknown key(s) ['lensin']"),
        (
            lambda c: c["lensing"]["impact_parameter"].update(min_over_critical=0.9),
            "min_over_critical = 0.9: 0.9 is less than or equal",
        ),
        (lambda c: c["lensing"]["impact_parameter"].update(points=2.5), "points = 2.5: expected type integer"),
        (
            lambda c: c["lensing"]["examples"][0].update(impact_parameter_unit="furlong"),
            "impact_parameter_unit = 'furlong'",
        ),
        (lambda c: c["lensing"]["examples"][1].update(speed=0.5), "examples[1]: must satisfy exactly one of"),
        (
            lambda c: c["lensing"]["figures"].update(massive_speed=0.3),
            "massive_speed = 0.3: must be one of lensing.speeds",
        ),
        (lambda c: c["lensing"].update(delay_radius_over_mass=10.0), "delay_radius_over_mass = 10.0: must exceed"),
    ],
)
def test_invalid_values_are_named_with_key_value_and_expectation(mutate, expected):
    config = _default_config()
    mutate(config)
    with pytest.raises(ConfigError) as info:
        check_config(config, SCHEMA)
    assert expected in str(info.value)


def test_default_config_is_valid_and_schema_fills_defaults():
    check_config(_default_config(), SCHEMA)
    config = {}
    validate(config, str(SCHEMA), set_default=True)
    assert config["lensing"]["chunks"] == 4
    assert config["lensing"]["impact_parameter"]["points"] == 80
    check_config(copy.deepcopy(config), SCHEMA)


def test_snakemake_stops_before_any_job_on_invalid_config(tmp_path: Path):
    bad = _default_config()
    bad["lensing"]["speeds"] = [1.0, -0.2]
    config_file = tmp_path / "bad.yaml"
    config_file.write_text(yaml.safe_dump(bad))
    result = run_snakemake("-n", "--configfile", str(config_file), "--directory", str(tmp_path), check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "lensing.speeds[1] = -0.2" in output
    assert "Job stats" not in output and not (tmp_path / "results").exists()
