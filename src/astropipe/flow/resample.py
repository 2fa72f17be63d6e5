"""Resampling of the bulk flow: bootstraps and jackknives, in chunks that can run anywhere.

Realisation i of a kind draws its random numbers from
``SeedSequence([seed, kind, i])``, so a realisation's result does not depend
on which chunk (job, core, cluster node) computed it, and the gathered
results are identical for any chunking.

Kinds (Hudson et al. 1999, §3):
* ``run_bootstrap`` - the spectroscopic-run corrections re-derived from a
  bootstrap of the dispersion measurements, then the whole chain re-run;
* ``cluster_bootstrap`` - clusters resampled with replacement;
* ``jackknife_cluster`` - each cluster left out in turn (realisation i leaves out cluster i);
* ``jackknife_run`` - each spectroscopic run left out in turn.
"""

from __future__ import annotations

import zlib
from itertools import pairwise

import numpy as np
from astropy.table import Table, vstack
from numpy.typing import NDArray

from astropipe.flow.peculiar import FlowSettings, analyse_survey, survey_constants
from astropipe.flow.runs import tied_run_groups
from astropipe.flow.subsamples import select_galaxies

__all__ = ["COLUMNS", "KINDS", "chunk_ranges", "gather", "realisation_count", "run_realisations", "summarise",
           "without_run"]

KINDS = ("run_bootstrap", "cluster_bootstrap", "jackknife_cluster", "jackknife_run")
#: one row per realisation; ``note`` says what a leave-one-run-out realisation had to drop, or why it was left out
COLUMNS = ("kind", "realisation", "vx", "vy", "vz", "note")


def realisation_count(kind: str, bootstrap: int, n_clusters: int, n_runs: int) -> int:
    return {"run_bootstrap": bootstrap, "cluster_bootstrap": bootstrap, "jackknife_cluster": n_clusters,
            "jackknife_run": n_runs}[kind]  # fmt: skip


def chunk_ranges(total: int, chunks: int) -> list[tuple[int, int]]:
    """Contiguous [start, stop) ranges splitting ``total`` realisations into ``chunks``."""
    edges = np.linspace(0, total, chunks + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in pairwise(edges)]


def _rng(seed: int, kind: str, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(kind.encode()), index]))


def run_realisations(kind: str, start: int, stop: int, clusters: Table, galaxies: Table, dispersions: Table,
                     seed: int, settings: FlowSettings = FlowSettings()) -> Table:  # fmt: skip
    """Bulk-flow vectors of realisations [start, stop) of one kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown resampling kind {kind!r}; expected one of {KINDS}")
    n_clu, n_meas = len(clusters), len(dispersions)
    n_runs = int(np.max(dispersions["run"])) + 1
    constants = survey_constants(clusters, galaxies)
    common = {"settings": settings, "n_runs": n_runs, "with_table": False}
    rows = []
    for i in range(start, stop):
        rng, note = _rng(seed, kind, i), ""
        if kind == "run_bootstrap":
            weights = np.bincount(rng.integers(n_meas, size=n_meas), minlength=n_meas).astype(float)
            result = analyse_survey(clusters, galaxies, dispersions, measurement_weights=weights, constants=constants, **common)
        elif kind == "cluster_bootstrap":
            counts = np.bincount(rng.integers(n_clu, size=n_clu), minlength=n_clu).astype(float)
            result = analyse_survey(clusters, galaxies, dispersions, cluster_weights=counts, constants=constants, **common)
        elif kind == "jackknife_cluster":
            weights = np.ones(n_clu)
            weights[i] = 0.0
            result = analyse_survey(clusters, galaxies, dispersions, cluster_weights=weights, constants=constants, **common)
        else:
            subsample, note = without_run(i, clusters, galaxies, dispersions)
            if subsample is None:
                rows.append((kind, i, np.nan, np.nan, np.nan, note))
                continue
            result = analyse_survey(*subsample, **common)
        rows.append((kind, i, *result.flow.vector, note))
    return Table(rows=rows, names=COLUMNS, dtype=(str, int, float, float, float, str))


def without_run(run: int, clusters: Table, galaxies: Table, dispersions: Table) -> tuple[tuple | None, str]:
    """The survey with spectroscopic run ``run`` left out, and a note of what else had to go.

    Galaxies measured only in that run leave the sample; clusters left with fewer than two galaxies
    (no FP distance) leave it too. If the remaining runs are no longer tied together by galaxies
    measured in two of them, their relative offsets are undefined: the realisation cannot be made and
    None is returned with the reason.
    """
    keep = np.asarray(dispersions["run"]) != run
    measured = np.isin(np.asarray(galaxies["galaxy"]), np.asarray(dispersions["galaxy"])[keep])
    *survey, dropped = select_galaxies(clusters, galaxies, dispersions, measured, keep)
    note = f"clusters {dropped} dropped (fewer than 2 galaxies without run {run})" if dropped else ""
    groups = tied_run_groups(np.asarray(survey[2]["galaxy"]), np.asarray(survey[2]["run"]))
    if len(groups) > 1:
        return None, f"without run {run} the runs fall into untied groups {groups}: left out" + (f"; {note}" if note else "")
    return tuple(survey), note


def summarise(realisations: Table, reference: NDArray, analytic_covariance: NDArray) -> dict:
    """Covariances of each kind (bootstrap: sample covariance; jackknife: (n-1)/n sum of outer products),
    the largest single-cluster shift, and the analytic covariance for comparison."""
    out: dict = {"analytic_covariance_kms2": np.asarray(analytic_covariance).tolist()}
    for kind in KINDS:
        rows = realisations[realisations["kind"] == kind]
        if len(rows) == 0:
            continue
        notes = [f"realisation {i}: {note}" for i, note in zip(rows["realisation"], rows["note"], strict=True) if note]
        rows = rows[np.isfinite(np.asarray(rows["vx"], float))]
        v = np.column_stack([rows["vx"], rows["vy"], rows["vz"]])
        if kind.startswith("jackknife"):
            n = len(v)
            d = v - v.mean(axis=0)
            covariance = (n - 1) / n * d.T @ d
            shifts = np.linalg.norm(v - np.asarray(reference), axis=1)
            out[kind] = {"n": n, "covariance_kms2": covariance.tolist(), "max_shift_kms": float(shifts.max()),
                         "max_shift_index": int(np.asarray(rows["realisation"])[np.argmax(shifts)]), "notes": notes}  # fmt: skip
        else:
            covariance = np.cov(v.T)
            out[kind] = {"n": len(v), "covariance_kms2": covariance.tolist(),
                         "rms_amplitude_error_kms": float(np.sqrt(np.trace(covariance)))}  # fmt: skip
    return out


def gather(parts: list[Table]) -> Table:
    """Concatenate chunk tables in (kind, realisation) order."""
    table = vstack(parts)
    order = np.lexsort((np.asarray(table["realisation"]), [KINDS.index(k) for k in table["kind"]]))
    return table[order]
