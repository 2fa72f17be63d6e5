"""Atomic writes: a failed or killed job never leaves a half-written output.

Every output is written to a temporary file in the destination directory and
moved into place with :func:`os.replace`, which is atomic on POSIX file
systems. Snakemake's own incomplete-file tracking then handles jobs killed
before the move.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from astropy.table import Table

__all__ = ["atomic_directory", "atomic_output", "write_json", "write_table"]


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    The temporary file keeps ``path``'s suffix so that writers choosing a
    format from the extension (astropy, matplotlib) behave as for ``path``.
    On an exception the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        os.replace(temporary_path, target)
    except BaseException:
        temporary_path.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; rename it onto ``path`` on success.

    An existing ``path`` (e.g. an empty directory pre-created by a workflow
    engine) is replaced; on an exception the temporary directory is removed.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield temporary
        if target.exists():
            shutil.rmtree(target)
        os.replace(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def write_table(table: Table, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """Write an astropy table atomically (format from the extension, e.g. ECSV)."""
    with atomic_output(path) as temporary:
        table.write(temporary, overwrite=True, **kwargs)


def write_json(data: Any, path: str | os.PathLike[str]) -> None:
    """Write JSON atomically, indented, with keys in insertion order."""
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, allow_nan=True) + "\n")
