"""Product files speak to users: no internal process words (task numbers, seed files, design notes)."""

import re
import subprocess

from conftest import REPO

PROCESS_WORDS = re.compile(
    r"\bissue \d+|\bseed (paper )?00\d\b|(?<![\"'_])\bsess(?:ions?)\b(?![\"'_])|DESIGN\.md|\.\./shared/seeds",
    re.IGNORECASE,
)
# what a user reads: documentation, code, rules, schema, report captions, benchmarks, tests, configuration
PRODUCT = re.compile(
    r"^(README\.md|CHANGELOG\.md|BENCHMARKS\.md|Snakefile|config\.yaml|docs/|src/|scripts/|rules/|"
    r"schemas/|report/|benchmarks/|tests/|validation/|profiles/|envs/|resources/README\.md)"
)


def test_product_files_contain_no_process_words():
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    found = []
    for name in filter(PRODUCT.match, listed):
        path = REPO / name
        if name == "tests/test_product_words.py" or path.suffix in (".png", ".fits", ".dat") or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            if PROCESS_WORDS.search(line):
                found.append(f"{name}:{number}: {line.strip()[:100]}")
    assert not found, "process words in product files:\n" + "\n".join(found)
