"""Which files of a raw directory are frames (standard library only: the workflow reads this at parse time)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["RAW_FRAME_SUFFIXES", "find_raw_frames"]

#: names of raw frames as instruments and the ESO archive deliver them, matched without regard to case
RAW_FRAME_SUFFIXES = tuple(f"{base}{packing}" for packing in ("", ".gz", ".z") for base in (".fits", ".fit", ".fts"))


def find_raw_frames(locations: list[str | Path]) -> list[Path]:
    """The raw frames among ``locations``: files as given, directories searched recursively.

    A frame is a file whose name ends in one of :data:`RAW_FRAME_SUFFIXES` (case-insensitive); hidden
    files (names starting with a dot, such as Snakemake's timestamps) are not frames.
    """
    frames = []
    for location in map(Path, locations):
        candidates = sorted(location.rglob("*")) if location.is_dir() else [location]
        frames += [
            path
            for path in candidates
            if path.is_file() and not path.name.startswith(".") and path.name.lower().endswith(RAW_FRAME_SUFFIXES)
        ]
    return frames
