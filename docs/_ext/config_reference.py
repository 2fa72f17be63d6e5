"""The configuration reference, generated from ``schemas/config.schema.yaml`` (the one source of the keys,
their defaults and their meaning) into ``docs/_generated/config_reference.md`` when the site is built."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from generated_page import connect_generated_page

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


def _type(node: dict) -> str:
    kind = node.get("type", "")
    kinds = kind if isinstance(kind, list) else [kind]
    if "enum" in node:
        return " / ".join(f"`{value}`" for value in node["enum"])
    if kinds == ["array"] and isinstance(node.get("items"), dict) and "type" in node["items"]:
        return f"array of {node['items']['type']}"
    return " or ".join(str(k) for k in kinds if k)


def _limits(node: dict) -> str:
    words = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">", "exclusiveMaximum": "<", "minItems": "items ≥"}
    return ", ".join(f"{symbol} {node[key]}" for key, symbol in words.items() if key in node)


def _literal(value) -> str:
    """A default as YAML would read it back: floats in the shortest form (1e+08, not 100000000.0)."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_literal(item)}" for key, item in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def _default(node: dict) -> str:
    if "default" not in node or "properties" in node:  # a section: its keys have their own rows
        return ""
    text = _literal(node["default"])
    return f"`{text}`" if len(text) <= 60 else "see the schema"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def rows(node: dict, prefix: str = "") -> list[tuple[str, str, str, str, str]]:
    """(key, type, default, limits, description) of every key below ``node``, depth first. A key without
    a default of its own takes it from its section's default (e.g. ``{a: 0.25, b: 0.75}``)."""
    found = []
    section_default = node.get("default") if isinstance(node.get("default"), dict) else {}
    for name, child in node.get("properties", {}).items():
        key = f"{prefix}.{name}" if prefix else name
        entry = (
            child if "default" in child or name not in section_default else {**child, "default": section_default[name]}
        )
        found.append((key, _type(entry), _default(entry), _limits(entry), entry.get("description", "")))
        found += rows(entry, key)
    return found


def render(schema_path: Path = SCHEMA) -> str:
    """The reference as a Markdown table, one row per key."""
    schema = yaml.safe_load(schema_path.read_text())
    lines = ["| key | type | default | limits | meaning |", "|---|---|---|---|---|"]
    lines += [
        "| " + " | ".join(_cell(cell) if i else f"`{cell}`" for i, cell in enumerate(row)) + " |"
        for row in rows(schema)
    ]
    return "\n".join(lines) + "\n"


def setup(app):
    connect_generated_page(app, "config_reference.md", render)
    return {"parallel_read_safe": True}
