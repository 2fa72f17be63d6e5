"""Validation of the tables a user brings: every problem named with the file, line or row, column and value.

A table entering the workflow is checked for what silently corrupts an analysis:

* a file that cannot be parsed, or a data line with another number of fields than the header
  (a truncated or damaged file), named with its line number;
* a missing column, an empty or non-finite value, a value outside its physical range;
* placeholders for missing values (-999, 99.99 ...), which a range check can miss;
* units that look wrong for the whole column (redshifts where cz in km/s is expected, angles
  in radians where degrees are expected);
* duplicated rows.

Rows are counted from 0 after the header (as :class:`astropy.table.Table` indexes them); lines
from 1, as an editor shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import Table

__all__ = [
    "PLACEHOLDERS",
    "Column",
    "TableError",
    "check_column",
    "check_field_counts",
    "check_unique_rows",
    "looks_like_radians",
    "read_table",
]

#: values that catalogues use for "no measurement"; never accepted as data
PLACEHOLDERS = (-99.0, -99.9, -99.99, -999.0, -999.9, -999.99, -9999.0, 99.99, 99.999, 9999.99)


class TableError(ValueError):
    """A table does not follow its documented format."""


@dataclass(frozen=True)
class Column:
    """One column of a documented table format.

    ``kind`` is ``"name"`` (a string or integer label), ``"number"`` or ``"choice"``; ``unit`` is the
    unit the analysis uses (an ECSV column with another convertible unit is converted). ``implausible``
    returns a reason when the column as a whole looks like another quantity (e.g. redshift for cz).
    """

    name: str
    kind: str
    unit: str | None
    description: str
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False
    choices: tuple[str, ...] = ()
    required: bool = True
    implausible: Callable[[np.ndarray], str | None] | None = None


def check_field_counts(path: str | Path, *, delimiter: str | None = None, comment: str = "#") -> None:
    """Every data line has as many fields as the header line (whitespace or ``delimiter`` separated).

    Raises
    ------
    TableError
        Naming the file, the first bad line (1-based) and the field counts: a truncated file ends in
        a short line, a damaged one has a line with too many or too few values.
    """
    path = Path(path)
    header_fields = None
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith(comment):
            continue
        fields = len(line.split(delimiter))
        if header_fields is None:
            header_fields = fields
        elif fields != header_fields:
            raise TableError(
                f"{path}: line {number} has {fields} fields, the header has {header_fields} "
                f"(a truncated or damaged file?): {line[:80]!r}"
            )


def read_table(path: str | Path, table_format: str) -> Table:
    """Read a table with astropy; an unreadable file is reported with its name and astropy's reason."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: file not found")
    try:
        table = Table.read(path, format=table_format)
    except Exception as error:  # astropy raises many kinds for unreadable tables
        raise TableError(f"{path}: cannot be read as {table_format} ({type(error).__name__}: {error})") from error
    if len(table) == 0:
        raise TableError(f"{path}: the table has no rows")
    return table


def _numbers(table: Table, column: Column, path: Path) -> np.ndarray:
    data = table[column.name]
    if data.unit is not None and column.unit is not None:
        try:
            return np.asarray(u.Quantity(data).to(column.unit).value, float)
        except u.UnitConversionError as error:
            raise TableError(f"{path}: column {column.name!r} has unit {data.unit}, expected {column.unit}") from error
    try:
        return np.asarray(data, float)
    except ValueError as error:
        raise TableError(f"{path}: column {column.name!r} is not numeric ({error})") from error


def _first(problems: np.ndarray) -> int:
    return int(np.flatnonzero(problems)[0])


def check_column(table: Table, column: Column, path: str | Path) -> np.ndarray | None:
    """The values of ``column`` (numbers in its unit, or strings), after checking every row.

    Returns None for an optional column that is absent.

    Raises
    ------
    TableError
        Naming the file, the column, the first bad row, its value, what was expected and how many
        rows are affected.
    """
    path = Path(path)
    if column.name not in table.colnames:
        if column.required:
            raise TableError(
                f"{path}: column {column.name!r} ({column.description}) is missing; columns present: {table.colnames}"
            )
        return None
    data = table[column.name]
    if hasattr(data, "mask") and np.any(data.mask):
        raise TableError(
            f"{path}: column {column.name!r} row {_first(np.asarray(data.mask))} is empty; every row needs a value"
        )
    if column.kind in ("name", "choice"):
        values = np.asarray(data).astype(str)
        blank = np.char.strip(values) == ""
        if np.any(blank):
            raise TableError(f"{path}: column {column.name!r} row {_first(blank)} is blank")
        bad = ~np.isin(values, column.choices) if column.kind == "choice" else np.zeros(values.size, bool)
        if np.any(bad):
            row = _first(bad)
            raise TableError(
                f"{path}: column {column.name!r} row {row} is {str(values[row])!r}; expected one of {column.choices}"
            )
        return values
    values = _numbers(table, column, path)
    unit = f" {column.unit}" if column.unit else ""
    placeholder = np.isin(values, PLACEHOLDERS)
    if np.any(placeholder):
        row = _first(placeholder)
        raise TableError(
            f"{path}: column {column.name!r} row {row} is {float(values[row])!r}{unit}, a placeholder for a "
            f"missing value ({int(placeholder.sum())} rows); remove those rows or give measured values"
        )
    finite = np.isfinite(values)
    reason = column.implausible(values[finite]) if column.implausible is not None and finite.any() else None
    if reason:
        raise TableError(f"{path}: column {column.name!r} ({column.description}, {column.unit}): {reason}")
    problems = ~finite
    expected = "a finite number"
    if column.positive:
        problems |= ~(values > 0)
        expected = "a positive number"
    if column.minimum is not None or column.maximum is not None:
        low = -np.inf if column.minimum is None else column.minimum
        high = np.inf if column.maximum is None else column.maximum
        problems |= (values < low) | (values > high)
        expected = f"a number in [{low}, {high}]"
    if np.any(problems):
        row = _first(problems)
        raise TableError(
            f"{path}: column {column.name!r} row {row} is {float(values[row])!r}{unit}; expected {expected} "
            f"({column.description}; {int(problems.sum())} bad rows)"
        )
    return values


def looks_like_radians(longitude: np.ndarray, latitude: np.ndarray) -> bool:
    """True when every longitude is within [0, 2 pi] and every latitude within [-pi/2, pi/2] (three or more rows)."""
    return (
        longitude.size >= 3
        and bool(np.all((longitude >= 0) & (longitude <= 2 * np.pi)))
        and bool(np.all(np.abs(latitude) <= np.pi / 2))
    )


def check_unique_rows(table: Table, columns: list[str], path: str | Path) -> None:
    """No two rows agree in all of ``columns`` (a row pasted twice, or one object listed twice)."""
    keys = [tuple(str(table[name][row]) for name in columns) for row in range(len(table))]
    first: dict[tuple, int] = {}
    for row, key in enumerate(keys):
        if key in first:
            shown = ", ".join(f"{name} = {value}" for name, value in zip(columns, key, strict=True))
            raise TableError(f"{path}: rows {first[key]} and {row} are duplicates ({shown})")
        first[key] = row
