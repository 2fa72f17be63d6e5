"""A throw-away single-node Slurm (slurmctld + slurmd + munge) for the cluster test.

The recipe: Debian's ``slurm-wlm`` and ``munge``
packages, daemons started by hand (no systemd), no accounting database (the
executor plugin is told to poll ``squeue``). ``stop`` puts the machine back as it
was: the daemons started here are stopped and a ``slurm.conf`` written here is
removed (or the previous one restored). A ``slurm.conf`` left behind with no
daemon running makes the Slurm executor plugin wait about 10 s in ``scontrol``
on every later ``snakemake`` call, even a local one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MUNGE_KEY = Path("/etc/munge/munge.key")


class SlurmUnavailable(RuntimeError):
    """Slurm cannot be started here (not root, packages missing, daemons failing)."""


def node_memory_mb() -> int:
    """The machine's memory (MB), from /proc/meminfo."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise SlurmUnavailable("cannot read MemTotal from /proc/meminfo")


def _config(host: str) -> str:
    memory = int(0.8 * node_memory_mb())
    return "\n".join(
        [
            "ClusterName=local",
            f"SlurmctldHost={host}",
            "AuthType=auth/munge",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "ReturnToService=2",
            "SlurmUser=root",
            "SlurmctldPidFile=/run/slurmctld.pid",
            "SlurmdPidFile=/run/slurmd.pid",
            "SlurmdSpoolDir=/var/spool/slurmd",
            "StateSaveLocation=/var/spool/slurmctld",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "SlurmctldLogFile=/var/log/slurm/slurmctld.log",
            "SlurmdLogFile=/var/log/slurm/slurmd.log",
            "MinJobAge=600",
            f"NodeName={host} CPUs={os.cpu_count()} RealMemory={memory} State=UNKNOWN",
            "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


def _running(name: str) -> bool:
    return subprocess.run(["pgrep", "-x", name], check=False, capture_output=True).returncode == 0


class SlurmNode:
    """Start the daemons (``start``), wait for an idle node, stop what was started (``stop``)."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.previous_conf: str | None = None
        self.wrote_conf = False

    def start(self, timeout: float = 60.0) -> None:
        if os.geteuid() != 0:
            raise SlurmUnavailable("starting Slurm daemons needs root")
        for program in ("munged", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue"):
            if shutil.which(program) is None and not Path(f"/usr/sbin/{program}").exists():
                raise SlurmUnavailable(f"{program} not found: apt-get install -y slurm-wlm munge")
        host = socket.gethostname()
        for directory in ("/etc/slurm", "/var/spool/slurmctld", "/var/spool/slurmd", "/var/log/slurm", "/run/munge"):
            Path(directory).mkdir(parents=True, exist_ok=True)
        if not _running("slurmctld"):
            self.previous_conf = SLURM_CONF.read_text() if SLURM_CONF.exists() else None
            SLURM_CONF.write_text(_config(host))
            self.wrote_conf = True
        if not MUNGE_KEY.exists():
            MUNGE_KEY.write_bytes(os.urandom(1024))
        shutil.chown(MUNGE_KEY, "munge", "munge")
        MUNGE_KEY.chmod(0o400)
        shutil.chown("/run/munge", "munge", "munge")
        for name, command in (
            ("munged", ["su", "-s", "/bin/sh", "munge", "-c", "/usr/sbin/munged"]),
            ("slurmctld", ["/usr/sbin/slurmctld"]),
            ("slurmd", ["/usr/sbin/slurmd"]),
        ):
            if _running(name):
                continue
            result = subprocess.run(command, check=False, capture_output=True, text=True)
            if result.returncode != 0:
                raise SlurmUnavailable(f"{' '.join(command)} failed: {result.stderr.strip()}")
            self.started.append(name)
            time.sleep(1.0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = subprocess.run(
                ["sinfo", "-h", "-o", "%t"], check=False, capture_output=True, text=True
            ).stdout.split()
            if "idle" in state or "mix" in state:
                return
            time.sleep(1.0)
        raise SlurmUnavailable(f"the Slurm node did not become idle within {timeout:.0f} s (sinfo: {state})")

    def stop(self) -> None:
        for name in reversed(self.started):
            subprocess.run(["pkill", "-x", name], check=False, capture_output=True)
        self.started.clear()
        if self.wrote_conf:
            if self.previous_conf is None:
                SLURM_CONF.unlink(missing_ok=True)
            else:
                SLURM_CONF.write_text(self.previous_conf)
            self.wrote_conf = False
