"""Snakemake's command line in a fresh process forked from a server that has imported Snakemake once.

Importing it costs ~1 CPU-s, most of what a ``snakemake`` command spends before it does anything. Each run is a
new process with its own environment, working directory, arguments and output, as ``python -m snakemake``
started from a shell would be.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_PROCESSES = multiprocessing.get_context("forkserver")
_PROCESSES.set_forkserver_preload(["snakemake.cli", __name__])


def _command_line(argv: list[str], cwd: str, environment: dict[str, str], stdout: str, stderr: str) -> None:
    """``python -m snakemake argv`` in ``cwd`` with ``environment``, its output into the files ``stdout`` and
    ``stderr`` (runs in the forked process; Snakemake's exit status is the process's)."""
    from snakemake.cli import main

    os.environ.clear()
    os.environ.update(environment)
    for path, stream in ((stdout, 1), (stderr, 2)):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(descriptor, stream)
        os.close(descriptor)
    os.chdir(cwd)
    sys.argv = ["snakemake", *argv]
    main(argv)


def snakemake_command(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run ``snakemake argv`` in ``cwd`` with this process's environment; the completed process (text output).

    Raises
    ------
    subprocess.TimeoutExpired
        The run took longer than ``timeout`` seconds (it is killed).
    """
    command = [sys.executable, "-m", "snakemake", *argv]
    with tempfile.TemporaryDirectory() as directory:
        stdout, stderr = Path(directory) / "stdout", Path(directory) / "stderr"
        process = _PROCESSES.Process(
            target=_command_line, args=(argv, str(cwd), dict(os.environ), str(stdout), str(stderr))
        )
        process.start()
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(command, timeout)
        return subprocess.CompletedProcess(command, process.exitcode, stdout.read_text(), stderr.read_text())
