"""Where each computation lives: every rule of the workflow, the script it runs and the library functions that
script calls, read from ``rules/*.smk`` and the scripts' imports into ``docs/_generated/rule_map.md`` when the
site is built (rule -> script -> library: two hops to any computation)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from generated_page import connect_generated_page

REPO = Path(__file__).resolve().parents[2]
RULE = re.compile(r"^(?:rule|checkpoint) (\w+):\n(.*?)(?=^(?:rule|checkpoint) |\Z)", re.S | re.M)
SCRIPT = re.compile(r"^\s+script:\s*\n\s+\"([^\"]+)\"", re.M)
# what a script uses only to read, write and log: not where its computation lives
PLUMBING = ("astropipe.io",)


def rule_scripts(rules_dir: Path = REPO / "rules") -> list[tuple[str, str, Path]]:
    """(rule file, rule, script path) of every rule that runs a script, in the order of the rule files."""
    found = []
    for path in sorted(rules_dir.glob("*.smk")):
        for name, body in RULE.findall(path.read_text()):
            script = SCRIPT.search(body)
            if script:
                found.append((path.name, name, (path.parent / script.group(1)).resolve()))
    return found


def library_calls(script: Path) -> list[str]:
    """``module.name`` of everything the script imports from the library, plumbing (I/O, logs) left out."""
    names = []
    for node in ast.walk(ast.parse(script.read_text())):
        library = isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("astropipe")
        if library and not node.module.startswith(PLUMBING):
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def render() -> str:
    """The map as a Markdown table, one row per rule."""
    lines = ["| rule | script | library |", "|---|---|---|"]
    for rule_file, rule, script in rule_scripts():
        calls = ", ".join(f"`{name}`" for name in library_calls(script))
        lines.append(f"| `{rule}` ({rule_file}) | `{script.relative_to(REPO)}` | {calls} |")
    return "\n".join(lines) + "\n"


def setup(app):
    connect_generated_page(app, "rule_map.md", render)
    return {"parallel_read_safe": True}
