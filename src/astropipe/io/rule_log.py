"""Logging for workflow scripts: one log file per job, with progress and ETA."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

__all__ = ["Progress", "rule_logger"]


def rule_logger(path: str | Path, name: str) -> logging.Logger:
    """A logger writing timestamped lines to the job's ``log:`` file.

    Also routes Python warnings and an uncaught exception (the error that
    stops the job, with its traceback) to the same file, so that nothing a
    job reports is lost and the log of a failed job says why it failed.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.handlers[:] = [handler]
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").handlers[:] = [handler]
    previous_hook = sys.excepthook

    def log_then_raise(kind, error, traceback):
        logger.error("%s: %s", kind.__name__, error, exc_info=(kind, error, traceback))
        previous_hook(kind, error, traceback)

    sys.excepthook = log_then_raise
    return logger


class Progress:
    """Log 'what, how far, ETA' lines at most every ``interval`` seconds."""

    def __init__(self, logger: logging.Logger, what: str, total: int, interval: float = 10.0) -> None:
        self.logger, self.what, self.total, self.interval = logger, what, total, interval
        self.start = self.last = time.monotonic()

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < self.interval and done < self.total:
            return
        self.last = now
        elapsed = now - self.start
        eta = elapsed / done * (self.total - done) if done else float("nan")
        self.logger.info(
            "%s: %d/%d (%.0f%%), elapsed %.1f s, ETA %.1f s",
            self.what,
            done,
            self.total,
            100.0 * done / self.total,
            elapsed,
            eta,
        )
