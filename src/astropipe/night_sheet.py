"""The nights of the imaging branch: one from the configuration, or many from a sheet.

A sheet is a tab- or comma-separated table with one row per dithered sequence, in the manner of the
``samples.tsv`` / ``units.tsv`` sheets of the Snakemake workflow catalogue:

=============  ==================================================================================
column         meaning
=============  ==================================================================================
night          the night's date (YYYY-MM-DD, evening)
field          the field's name in the workflow: ``imaging.object.name`` or a survey field
filter         J, H or Ks
seed           simulation seed of the night (empty for real data)
raw_directory  the night's raw frames (empty to simulate the night with ``seed``)
=============  ==================================================================================

``seed`` and ``raw_directory`` describe the night: every row of one night must agree on them, and
exactly one of them is given.
"""

from __future__ import annotations

import csv
import datetime
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["COLUMNS", "Night", "SheetError", "nights_from_config", "read_night_sheet"]

COLUMNS = ("night", "field", "filter", "seed", "raw_directory")
FILTERS = ("J", "H", "Ks")


class SheetError(ValueError):
    """The sheet of nights cannot be used."""


@dataclass
class Night:
    """One night: simulated from ``seed`` or read from ``raw_directory``, and its sequences."""

    date: str
    seed: int | None
    raw_directory: str | None
    sequences: list[tuple[str, str]] = field(default_factory=list)

    @property
    def simulated(self) -> bool:
        return self.raw_directory is None


def nights_from_config(imaging: dict, survey_fields: list[str]) -> dict[str, Night]:
    """The single night of ``imaging.night`` / ``seed`` / ``raw_directory`` with every configured sequence."""
    sequences = [(imaging["object"]["name"], band) for band in imaging["object"]["sequences"]]
    sequences += [(name, imaging["survey"]["filter"]) for name in survey_fields]
    night = Night(imaging["night"], int(imaging["seed"]), imaging["raw_directory"], sequences)
    if night.raw_directory is not None:
        night.seed = None
    return {night.date: night}


def _check_row(
    path: Path,
    line: int,
    row: dict[str, str],
    object_name: str,
    object_filters: list[str],
    survey_fields: list[str],
    survey_filter: str,
) -> None:
    where = f"{path}: line {line}"
    try:
        datetime.date.fromisoformat(row["night"])
    except ValueError as error:
        raise SheetError(f"{where}: night = {row['night']!r} is not a date YYYY-MM-DD") from error
    if row["filter"] not in FILTERS:
        raise SheetError(f"{where}: filter = {row['filter']!r}; expected one of {FILTERS}")
    if row["field"] == object_name:
        if row["filter"] not in object_filters:
            raise SheetError(
                f"{where}: the object field {object_name!r} has no sequence in filter {row['filter']!r} in "
                f"imaging.object.sequences ({object_filters})"
            )
    elif row["field"] not in survey_fields:
        raise SheetError(
            f"{where}: field = {row['field']!r} is neither the object field {object_name!r} nor a survey field "
            f"({', '.join(survey_fields) or 'none configured'})"
        )
    elif row["filter"] != survey_filter:
        raise SheetError(
            f"{where}: survey field {row['field']!r} in filter {row['filter']!r}; the survey is observed in "
            f"{survey_filter!r} (imaging.survey.filter)"
        )
    if bool(row["seed"]) == bool(row["raw_directory"]):
        raise SheetError(
            f"{where}: give either a seed (simulate the night) or a raw_directory (real data), not "
            f"{'both' if row['seed'] else 'neither'}"
        )
    if row["seed"] and not row["seed"].isdigit():
        raise SheetError(f"{where}: seed = {row['seed']!r}; expected a non-negative integer")


def read_night_sheet(
    path: str | Path, *, object_name: str, object_filters: list[str], survey_fields: list[str], survey_filter: str
) -> dict[str, Night]:
    """The nights of a sheet, each with its sequences in the sheet's order.

    Raises
    ------
    SheetError
        Naming the file, the line, the column and the value: a missing column, a bad date, filter or
        seed, a field that is not configured, a night whose rows disagree on seed or raw directory, a
        sequence listed twice.
    """
    path = Path(path)
    text = path.read_text()
    dialect = "excel-tab" if "\t" in text.splitlines()[0] else "excel"
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise SheetError(f"{path}: missing column(s) {missing}; a sheet has columns {list(COLUMNS)}")
    nights: dict[str, Night] = {}
    for line, raw_row in enumerate(reader, start=2):
        row = {key: (value or "").strip() for key, value in raw_row.items() if key is not None}
        _check_row(path, line, row, object_name, object_filters, survey_fields, survey_filter)
        seed = int(row["seed"]) if row["seed"] else None
        raw = row["raw_directory"] or None
        night = nights.setdefault(row["night"], Night(row["night"], seed, raw))
        if (night.seed, night.raw_directory) != (seed, raw):
            raise SheetError(
                f"{path}: line {line}: night {row['night']} has seed {seed} and raw_directory {raw!r} here, "
                f"{night.seed} and {night.raw_directory!r} on an earlier line"
            )
        sequence = (row["field"], row["filter"])
        if sequence in night.sequences:
            raise SheetError(f"{path}: line {line}: night {row['night']} lists {sequence[0]} in {sequence[1]} twice")
        night.sequences.append(sequence)
    if not nights:
        raise SheetError(f"{path}: the sheet has no rows")
    return nights
