"""Writing a page generated at build time into ``docs/_generated/`` (shared by the site's extensions)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def connect_generated_page(app, name: str, render: Callable[[], str]) -> None:
    """Write ``render()`` to ``_generated/<name>`` when the build starts; rewritten only when it changed,
    so that Sphinx does not rebuild the pages including it for nothing."""

    def write(app) -> None:
        target = Path(app.srcdir) / "_generated" / name
        target.parent.mkdir(exist_ok=True)
        text = render()
        if not target.is_file() or target.read_text() != text:
            target.write_text(text)

    app.connect("builder-inited", write)
