"""Readable validation of the workflow configuration against its JSON Schema.

Snakemake's ``validate`` reports the first error with the whole sub-schema;
this lists every error on one line each, as ``key = value: expectation``,
before any job runs. Defaults are then filled by ``snakemake.utils.validate``.

Stricter than JSON Schema's defaults: an integer key refuses 2.0, a date must
be a calendar date, and relations the schema cannot express (ordered ranges,
fractions summing to one, distinct survey names) are checked too. The config
files themselves are read again with a YAML loader that refuses duplicate keys.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from snakemake.utils import validate as snakemake_validate

__all__ = [
    "ConfigError",
    "canonical_order",
    "check_config",
    "check_config_files",
    "config_errors",
    "configured_path",
    "cross_key_errors",
    "lensing_consistency_errors",
    "load_yaml_strictly",
]


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


def _is_integer(_checker, instance: Any) -> bool:
    """JSON Schema's ``integer`` without its acceptance of 2.0: a count written as a float is a typo."""
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


def config_errors(config: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """All schema violations of ``config``, one readable line each (sorted by key)."""
    validator = _Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
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


#: (key of the lower value, key of the upper value) pairs that must be strictly increasing
_ORDERED = (
    ("flow.simulation.cz_min", "flow.simulation.cz_max"),
    ("flow.supernovae.z_min", "flow.supernovae.z_max"),
    ("imaging.calibration.aperture.radius_arcsec", "imaging.calibration.aperture.sky_inner_arcsec"),
    ("imaging.calibration.aperture.sky_inner_arcsec", "imaging.calibration.aperture.sky_outer_arcsec"),
    ("imaging.cmd.object_radius_arcsec", "imaging.cmd.field_inner_radius_arcsec"),
)
#: keys whose value is a list that must be strictly increasing
_INCREASING = (
    "imaging.cmd.blue_interval",
    "imaging.cmd.red_interval",
    "imaging.survey_analysis.ring_edges_arcsec",
    "imaging.survey_analysis.background_ring_arcsec",
    "imaging.survey_analysis.hole_ring_arcsec",
)


def _lookup(config: dict[str, Any], key: str) -> Any:
    value: Any = config
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def cross_key_errors(config: dict[str, Any]) -> list[str]:
    """Relations between keys that a JSON Schema cannot express: ordered ranges, fractions, distinct names."""
    errors = lensing_consistency_errors(config.get("lensing", {}))
    for low_key, high_key in _ORDERED:
        low, high = _lookup(config, low_key), _lookup(config, high_key)
        if low is not None and high is not None and not low < high:
            errors.append(f"{low_key} = {low!r} must be less than {high_key} = {high!r}")
    for key in _INCREASING:
        values = _lookup(config, key)
        if values is not None and any(b <= a for a, b in itertools.pairwise(values)):
            errors.append(f"{key} = {values!r}: must be strictly increasing")
    fractions = _lookup(config, "imaging.survey.class_fractions")
    if fractions is not None and abs(sum(fractions.values()) - 1.0) > 1e-6:
        errors.append(
            f"imaging.survey.class_fractions = {fractions!r}: the fractions sum to "
            f"{sum(fractions.values()):.6g}; expected 1 (they share the candidate fields among the classes)"
        )
    survey, supernovae = _lookup(config, "flow.survey"), _lookup(config, "flow.supernovae.name")
    if survey is not None and survey == supernovae:
        errors.append(
            f"flow.supernovae.name = {supernovae!r}: must differ from flow.survey = {survey!r} "
            f"(each names its own results/flow/<name>/)"
        )
    return errors


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml_strictly(path: str | Path) -> Any:
    """Parse a YAML (or JSON) file, refusing duplicate keys; errors name the file and the line."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"configuration file {path}: cannot be read ({error})") from error
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ConfigError(f"configuration file {path}: not valid YAML: {error}") from error


def check_config_files(paths: list[str | Path]) -> None:
    """Raise :class:`ConfigError` for a config file that is empty, unparsable, not a mapping or has duplicate keys."""
    for path in paths:
        content = load_yaml_strictly(path)
        if not isinstance(content, dict) or not content:
            found = "nothing" if content is None else type(content).__name__
            raise ConfigError(
                f"configuration file {path}: expected a mapping of keys (lensing:, imaging:, flow:), found {found}"
            )


def canonical_order(value: Any) -> Any:
    """``value`` with every mapping's keys in sorted order (lists keep theirs).

    Snakemake compares a rule's params with those of the last run by their text, so the same
    settings written in another key order would rerun the jobs; a canonical order prevents that.
    """
    if isinstance(value, dict):
        return {key: canonical_order(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical_order(item) for item in value]
    return value


def check_config(config: dict[str, Any], schema_path: str | Path) -> None:
    """Raise :class:`ConfigError` listing every violation of the schema at ``schema_path``.

    Cross-key relations are checked only once the schema is satisfied.
    """
    schema = yaml.safe_load(Path(schema_path).read_text())
    errors = config_errors(config, schema)
    if not errors:
        with_defaults = copy.deepcopy(config)
        snakemake_validate(with_defaults, str(schema_path), set_default=True)
        errors = cross_key_errors(with_defaults)
    if errors:
        listing = "\n  - ".join(errors)
        raise ConfigError(
            f"invalid configuration ({len(errors)} problem(s); see schemas/config.schema.yaml "
            f"and docs/configuration.md):\n  - {listing}"
        )


def configured_path(value: str | None, key: str, *, shipped: Path | None = None, kind: str = "file") -> Path:
    """The file or directory a configuration key names, checked to exist before any job runs.

    Parameters
    ----------
    value : str or None
        The configured path; a relative path is relative to the working directory (as every path Snakemake
        reads). None selects ``shipped``.
    key : str
        The configuration key, for the message (e.g. ``flow.supernovae.path``).
    shipped : Path, optional
        The file shipped with the workflow that ``None`` stands for.
    kind : {"file", "directory"}
        What the path must be.

    Raises
    ------
    ConfigError
        Naming the key, the path as configured and as resolved, and what was expected.
    """
    if value is None:
        if shipped is None:
            raise ConfigError(f"{key} is not set; expected the path of a {kind}")
        path = Path(shipped)
    else:
        path = Path(value)
    exists = path.is_dir() if kind == "directory" else path.is_file()
    if not exists:
        found = "a directory" if path.is_dir() else "a file" if path.exists() else "nothing"
        raise ConfigError(
            f"{key} = {value!r}: expected an existing {kind}, found {found} at {path.resolve()} "
            f"(relative paths are relative to the working directory {Path.cwd()})"
        )
    return path
