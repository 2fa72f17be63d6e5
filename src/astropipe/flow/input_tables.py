"""The input format of a Fundamental-Plane survey, and its validation (Hudson et al. 1999, §2).

A survey is three tables, ECSV or CSV (one file each, named ``clusters``,
``galaxies`` and ``dispersions`` with the suffix ``.ecsv`` or ``.csv``):

* clusters - one row per cluster: name, Galactic (l, b), heliocentric cz and
  its error, the Galactic extinction of the surface-brightness band from one
  or two maps (SFD and Burstein & Heiles);
* galaxies - one row per early-type galaxy: name, cluster, log angular
  effective radius, mean surface brightness within it, their errors,
  morphology (E or S0), optionally Mg2;
* dispersions - one row per velocity-dispersion measurement: galaxy, the
  spectroscopic run it was measured in, log sigma and its error. Galaxies
  measured in several runs tie the runs' offsets together.

:data:`TABLES` is the schema (column, kind, unit, range, meaning). A column
in ECSV with a unit is converted to the schema's unit; CSV columns are taken
in the schema's units. :func:`read_survey` checks every column, every row and
the links between the tables (each galaxy's cluster exists and has two or more
galaxies, every galaxy has a dispersion, every run is tied to the others)
and returns the tables in the analysis' form: galaxies numbered 0..n-1 in
table order and runs 0..m-1, the original names kept in ``galaxy_name`` and
``run_name``. Every problem is reported with the file, column, row (data rows
counted from 0, the header not counted) and value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.table import Table

from astropipe.flow.runs import tied_run_groups
from astropipe.io.table_checks import (
    Column,
    TableError,
    check_column,
    check_field_counts,
    check_unique_rows,
    looks_like_radians,
    read_table,
)

__all__ = ["TABLES", "Column", "InputTableError", "find_table", "read_survey"]

#: a survey table does not follow the input format (the error of :mod:`astropipe.io.table_checks`)
InputTableError = TableError


def _redshift_not_velocity(values: np.ndarray) -> str | None:
    if np.max(np.abs(values)) < 5.0:
        return f"every value is below 5 (largest {np.max(np.abs(values)):.4g}): these look like redshifts z; give cz = c z in km/s"
    return None


TABLES: dict[str, tuple[Column, ...]] = {
    "clusters": (
        Column("cluster", "name", None, "unique cluster name"),
        Column("l", "number", "deg", "Galactic longitude", 0.0, 360.0),
        Column("b", "number", "deg", "Galactic latitude", -90.0, 90.0),
        Column(
            "cz_helio",
            "number",
            "km/s",
            "heliocentric redshift velocity",
            -1000.0,
            100000.0,
            implausible=_redshift_not_velocity,
        ),
        Column("cz_err", "number", "km/s", "error of cz_helio", positive=True),
        Column("extinction_sfd", "number", "mag", "extinction of the <mu>_e band, Schlegel et al. map", 0.0, 10.0),
        Column(
            "extinction_bh", "number", "mag", "the same from Burstein & Heiles (optional)", 0.0, 10.0, required=False
        ),
    ),
    "galaxies": (
        Column("galaxy", "name", None, "unique galaxy name"),
        Column("cluster", "name", None, "the cluster it belongs to (a name in the clusters table)"),
        Column("log_theta", "number", None, "log10 of the angular effective radius in arcsec", -2.0, 3.0),
        Column("log_theta_err", "number", None, "its error (dex)", positive=True),
        Column(
            "mu_e",
            "number",
            "mag / arcsec2",
            "mean surface brightness within the effective radius, as observed (not corrected for extinction or (1 + z)^4 dimming)",
            10.0,
            30.0,
        ),
        Column("mu_e_err", "number", "mag / arcsec2", "its error", positive=True),
        Column("morphology", "choice", None, "E or S0", choices=("E", "S0")),
        Column("mg2", "number", "mag", "Mg2 line index (optional)", -0.5, 1.0, required=False),
    ),
    "dispersions": (
        Column("galaxy", "name", None, "the galaxy measured (a name in the galaxies table)"),
        Column("run", "name", None, "the spectroscopic run"),
        Column("log_sigma", "number", None, "log10 of the velocity dispersion in km/s", 1.0, 3.0),
        Column("log_sigma_err", "number", None, "its error (dex)", positive=True),
    ),
}

_FORMATS = {".ecsv": "ascii.ecsv", ".csv": "ascii.csv"}


def find_table(directory: str | Path, name: str) -> Path:
    """The file of table ``name`` in ``directory`` (``name.ecsv`` or ``name.csv``, exactly one)."""
    found = [
        Path(directory) / f"{name}{suffix}" for suffix in _FORMATS if (Path(directory) / f"{name}{suffix}").is_file()
    ]
    if len(found) != 1:
        what = "none of" if not found else "more than one of"
        raise InputTableError(f"{directory}: {what} {name}.ecsv, {name}.csv found; the flow input needs exactly one")
    return found[0]


def _read(path: Path, name: str) -> dict[str, np.ndarray]:
    table_format = _FORMATS[path.suffix]
    if table_format == "ascii.csv":
        check_field_counts(path, delimiter=",")
    table = read_table(path, table_format)
    columns = {column.name: check_column(table, column, path) for column in TABLES[name]}
    if name == "clusters" and looks_like_radians(columns["l"], columns["b"]):
        raise InputTableError(
            f"{path}: columns 'l' and 'b' look like radians (every l within [0, 2 pi], every b within "
            f"[-pi/2, pi/2]); give Galactic longitude and latitude in degrees"
        )
    if name == "dispersions":
        check_unique_rows(table, ["galaxy", "run", "log_sigma", "log_sigma_err"], path)
    return {key: value for key, value in columns.items() if value is not None}


def _unique(values: np.ndarray, path: Path, column: str) -> None:
    names, counts = np.unique(values, return_counts=True)
    if np.any(counts > 1):
        raise InputTableError(
            f"{path}: {column} {str(names[counts > 1][0])!r} appears {counts[counts > 1][0]} times; names must be unique"
        )


def _links(child: np.ndarray, parents: np.ndarray, path: Path, column: str, parent_path: Path) -> np.ndarray:
    index = {name: k for k, name in enumerate(parents)}
    missing = [name for name in child if name not in index]
    if missing:
        raise InputTableError(
            f"{path}: column {column!r} names {str(missing[0])!r}, which is not in {parent_path} "
            f"({len(missing)} rows affected)"
        )
    return np.array([index[name] for name in child], dtype=int)


def read_survey(directory: str | Path) -> tuple[Table, Table, Table]:
    """Read and validate a survey's three tables; return them in the analysis' form.

    Raises
    ------
    InputTableError
        Naming the file, the column, the row and the value, for a missing
        column, a value outside its range, a duplicated name, a broken link
        between tables, a cluster with fewer than 2 galaxies, a galaxy
        without a dispersion or runs not tied to each other.
    """
    paths = {name: find_table(directory, name) for name in TABLES}
    clusters, galaxies, dispersions = (_read(paths[name], name) for name in TABLES)
    _unique(clusters["cluster"], paths["clusters"], "cluster")
    _unique(galaxies["galaxy"], paths["galaxies"], "galaxy")
    member = _links(galaxies["cluster"], clusters["cluster"], paths["galaxies"], "cluster", paths["clusters"])
    counts = np.bincount(member, minlength=len(clusters["cluster"]))
    if np.any(counts < 2):
        few = clusters["cluster"][counts < 2]
        raise InputTableError(
            f"{paths['galaxies']}: clusters with fewer than 2 galaxies cannot have an FP distance: "
            f"{few[:5].tolist()} ({few.size} in all); remove them from {paths['clusters']}"
        )
    galaxy = _links(dispersions["galaxy"], galaxies["galaxy"], paths["dispersions"], "galaxy", paths["galaxies"])
    unmeasured = np.setdiff1d(np.arange(len(galaxies["galaxy"])), galaxy)
    if unmeasured.size:
        raise InputTableError(
            f"{paths['galaxies']}: galaxy {str(galaxies['galaxy'][unmeasured[0]])!r} (row {unmeasured[0]}) "
            f"has no velocity dispersion in {paths['dispersions']} ({unmeasured.size} such galaxies)"
        )
    run_names, run = np.unique(dispersions["run"], return_inverse=True)
    _check_runs_tied(galaxy, run, run_names, paths["dispersions"])
    cluster_table = Table({key: clusters[key] for key in clusters})
    galaxy_table = Table(
        {
            "galaxy": np.arange(len(galaxies["galaxy"])),
            "galaxy_name": galaxies["galaxy"],
            **{key: value for key, value in galaxies.items() if key != "galaxy"},
        }
    )
    dispersion_table = Table(
        {
            "galaxy": galaxy,
            "run": run,
            "log_sigma": dispersions["log_sigma"],
            "log_sigma_err": dispersions["log_sigma_err"],
            "run_name": run_names[run],
        }
    )
    return cluster_table, galaxy_table, dispersion_table


def _check_runs_tied(galaxy: np.ndarray, run: np.ndarray, run_names: np.ndarray, path: Path) -> None:
    """Every run must be linked to every other by galaxies measured in both (else its offset is undefined)."""
    groups = tied_run_groups(galaxy, run)
    if len(groups) > 1:
        named = [run_names[group].tolist() for group in groups]
        raise InputTableError(
            f"{path}: the spectroscopic runs fall into {len(groups)} groups with no galaxy measured in "
            f"two of them: {named}; their relative offsets cannot be determined"
        )
