"""Readable validation of the workflow configuration against its JSON Schema.

Snakemake's ``validate`` reports the first error with the whole sub-schema;
this lists every error on one line each, as ``key = value: expectation``,
before any job runs. Defaults are then filled by ``snakemake.utils.validate``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

__all__ = ["ConfigError", "check_config", "config_errors", "lensing_consistency_errors"]


class ConfigError(ValueError):
    """The configuration does not satisfy the schema."""


def _key(path) -> str:
    parts = []
    for item in path:
        parts.append(f"[{item}]" if isinstance(item, int) else f".{item}")
    return "".join(parts).lstrip(".") or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    key = _key(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unexpected = sorted(set(error.instance) - set(allowed))
        return f"{key}: unknown key(s) {unexpected}; allowed keys: {allowed}"
    if error.validator == "type":
        return f"{key} = {error.instance!r}: expected type {error.validator_value}"
    if error.validator == "oneOf":
        return f"{key}: must satisfy exactly one of {error.validator_value} (e.g. either speed, or kinetic energy and particle mass)"
    return f"{key} = {error.instance!r}: {error.message}"


def config_errors(config: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """All schema violations of ``config``, one readable line each (sorted by key)."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    return [_describe(error) for error in errors]


def lensing_consistency_errors(lensing: dict[str, Any]) -> list[str]:
    """Relations between lensing keys that a JSON Schema cannot express."""
    errors = []
    speeds = lensing.get("speeds", [])
    massive = lensing.get("figures", {}).get("massive_speed")
    if massive is not None and speeds and massive not in speeds:
        errors.append(f"lensing.figures.massive_speed = {massive!r}: must be one of lensing.speeds {speeds}")
    if speeds and 1.0 not in speeds:
        errors.append(f"lensing.speeds = {speeds!r}: must include 1.0 (light), the reference of Fig. 1b")
    radius = lensing.get("delay_radius_over_mass")
    b_max = lensing.get("impact_parameter", {}).get("max_over_mass")
    if radius is not None and b_max is not None and radius <= b_max:
        errors.append(
            f"lensing.delay_radius_over_mass = {radius!r}: must exceed "
            f"lensing.impact_parameter.max_over_mass = {b_max!r} (source and observer lie beyond every b)"
        )
    return errors


def check_config(config: dict[str, Any], schema_path: str | Path) -> None:
    """Raise :class:`ConfigError` listing every violation of the schema at ``schema_path``.

    Cross-key relations are checked only once the schema is satisfied.
    """
    schema = yaml.safe_load(Path(schema_path).read_text())
    errors = config_errors(config, schema)
    if not errors:
        errors = lensing_consistency_errors(config.get("lensing", {}))
    if errors:
        listing = "\n  - ".join(errors)
        raise ConfigError(
            f"invalid configuration ({len(errors)} problem(s); see schemas/config.schema.yaml "
            f"and the README's configuration reference):\n  - {listing}"
        )
