"""Make this library importable by every job of the workflow without installing it.

The workflow's ``rules/common.smk`` puts ``src/`` first on ``sys.path`` (for the
Snakefile itself) and calls :func:`export_library_path`, which puts it first on
``PYTHONPATH``: every script job inherits it, whether it runs locally, on a
cluster node (each job re-reads the Snakefile) or in a ``--sdm conda``
environment that holds only the third-party packages of ``envs/*.yaml``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["export_library_path"]


def export_library_path(directory: str | Path) -> None:
    """Prepend ``directory`` to ``PYTHONPATH`` (once), keeping what the user had there."""
    directory = str(directory)
    entries = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    os.environ["PYTHONPATH"] = os.pathsep.join([directory, *(entry for entry in entries if entry != directory)])
