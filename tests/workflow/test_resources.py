"""The data shipped in resources/ are the files their provenance table describes."""

import hashlib
import re

from conftest import REPO

RESOURCES = REPO / "resources"


def _provenance() -> dict[str, str]:
    """file -> sha256, from the table of resources/README.md."""
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", (RESOURCES / "README.md").read_text(), re.M)
    return dict(rows)


def test_every_shipped_file_has_its_provenance_and_checksum():
    listed = _provenance()
    shipped = {str(p.relative_to(RESOURCES)) for p in RESOURCES.rglob("*") if p.is_file() and p.name != "README.md"}
    assert shipped == set(listed), (
        f"unlisted: {sorted(shipped - set(listed))}; missing: {sorted(set(listed) - shipped)}"
    )
    for name, checksum in listed.items():
        assert hashlib.sha256((RESOURCES / name).read_bytes()).hexdigest() == checksum, f"resources/{name} changed"


def test_the_default_configuration_reads_nothing_outside_the_repository():
    text = (REPO / "config.yaml").read_text() + (REPO / "schemas" / "config.schema.yaml").read_text()
    assert "../" not in text, "a default path points outside the workflow"
