"""Resampling of the bulk flow: bootstraps and jackknives, in chunks that can run anywhere.

The random numbers of a kind come in fixed blocks of :data:`BLOCK` realisations: block b draws from
``random_stream(seed, kind, b)``, one row of draws per realisation, so a realisation's result does
not depend on which chunk (job, core, cluster node) computed it, and the gathered results are
identical for any chunking. The bootstraps and the cluster jackknife run the chain for a whole block
at once (:mod:`astropipe.flow.batch_chain`); the run jackknife, whose realisations change the survey's
tables, runs it once per realisation.

Kinds (Hudson et al. 1999, §3):

* ``run_bootstrap`` - the spectroscopic-run corrections re-derived from a
  bootstrap of the dispersion measurements, then the whole chain re-run;
* ``cluster_bootstrap`` - clusters resampled with replacement;
* ``jackknife_cluster`` - each cluster left out in turn (realisation i leaves out cluster i);
* ``jackknife_run`` - each spectroscopic run left out in turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import numpy as np
from astropy.table import Table, vstack
from numpy.typing import NDArray

from astropipe.flow.batch_chain import cluster_weighted_flows, linearise_survey, run_bootstrap_flows
from astropipe.flow.peculiar import FlowSettings, analyse_survey
from astropipe.flow.runs import tied_run_groups
from astropipe.flow.subsamples import select_galaxies
from astropipe.random_streams import random_stream

__all__ = [
    "BLOCK",
    "COLUMNS",
    "KINDS",
    "bootstrap_counts",
    "chunk_ranges",
    "gather",
    "realisation_count",
    "run_realisations",
    "summarise",
    "without_run",
]

KINDS = ("run_bootstrap", "cluster_bootstrap", "jackknife_cluster", "jackknife_run")
#: one row per realisation; ``note`` says what a leave-one-run-out realisation had to drop, or why it was left out
COLUMNS = ("kind", "realisation", "vx", "vy", "vz", "note")


def realisation_count(kind: str, bootstrap: int, n_clusters: int, n_runs: int) -> int:
    return {
        "run_bootstrap": bootstrap,
        "cluster_bootstrap": bootstrap,
        "jackknife_cluster": n_clusters,
        "jackknife_run": n_runs,
    }[kind]


def chunk_ranges(total: int, chunks: int) -> list[tuple[int, int]]:
    """Contiguous [start, stop) ranges splitting ``total`` realisations into ``chunks``."""
    edges = np.linspace(0, total, chunks + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in pairwise(edges)]


#: a bootstrap summary lists at most this many of the realisations it had to leave out
MAX_NOTES = 20
#: realisations per random stream, and rows per call of its generator (fixed properties of the results:
#: changing them changes the draws)
BLOCK = 1024
DRAW_ROWS = 64


def bootstrap_counts(
    seed: int, kind: str, start: int, stop: int, n_items: int, batch: int = BLOCK
) -> Iterator[tuple[int, np.ndarray]]:
    """How often each of ``n_items`` is drawn in bootstrap realisations [start, stop), in batches.

    Block b's generator draws the rows of its realisations in calls of :data:`DRAW_ROWS` rows from the
    block's start, whatever [start, stop) is, so realisation i gets the same draws in any chunk.

    Yields
    ------
    first : int
        The batch's first realisation.
    counts : numpy.ndarray (about ``batch``, n_items)
        One row of counts per realisation.
    """
    dtype = np.int16 if n_items <= np.iinfo(np.int16).max else np.int64
    for block in range(start // BLOCK, -(-stop // BLOCK)):
        rng = random_stream(seed, kind, block)
        first, last = max(start, block * BLOCK), min(stop, (block + 1) * BLOCK)
        pending: list[np.ndarray] = []
        for row in range(block * BLOCK, last, DRAW_ROWS):
            draws = rng.integers(n_items, size=(DRAW_ROWS, n_items), dtype=dtype)
            low, high = max(first, row), min(last, row + DRAW_ROWS)
            if high > low:
                pending.append(draws[low - row : high - row])
            if pending and (sum(map(len, pending)) >= batch or high == last):
                rows = np.concatenate(pending)
                counts = np.empty((len(rows), n_items))
                for k, drawn in enumerate(rows):
                    counts[k] = np.bincount(drawn, minlength=n_items)
                yield high - len(rows), counts
                pending = []


def _leave_one_cluster_out(start: int, stop: int, n_clusters: int, batch: int) -> Iterator[tuple[int, np.ndarray]]:
    for a in range(start, stop, batch):
        b = min(stop, a + batch)
        weights = np.ones((b - a, n_clusters))
        weights[np.arange(b - a), np.arange(a, b)] = 0.0
        yield a, weights


#: the largest array (elements) a batch of realisations may need; bounds the memory of very large surveys
BATCH_ELEMENTS = 2**23


def run_realisations(
    kind: str,
    start: int,
    stop: int,
    clusters: Table,
    galaxies: Table,
    dispersions: Table,
    seed: int,
    settings: FlowSettings = FlowSettings(),
) -> Table:
    """Bulk-flow vectors of realisations [start, stop) of one kind.

    A realisation that cannot constrain a flow (all clusters drawn in one hemisphere, a run left out that
    unties the others) has NaN and a note saying why.

    Raises
    ------
    ValueError
        For an unknown kind.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown resampling kind {kind!r}; expected one of {KINDS}")
    if kind == "jackknife_run":
        return _leave_one_run_out(start, stop, clusters, galaxies, dispersions, settings)
    survey = linearise_survey(clusters, galaxies, dispersions, settings)
    n_clu, n_meas = len(clusters), len(dispersions)
    per_realisation = (
        2 * n_meas + 3 * survey.offset_system.tie_first.size + 12 * n_clu if kind == "run_bootstrap" else 12 * n_clu
    )
    batch = int(np.clip(BATCH_ELEMENTS // per_realisation, 1, BLOCK))
    if kind == "run_bootstrap":
        batches = [
            run_bootstrap_flows(survey, counts)
            for _, counts in bootstrap_counts(seed, kind, start, stop, n_meas, batch)
        ]
    else:
        weights = (
            bootstrap_counts(seed, kind, start, stop, n_clu, batch)
            if kind == "cluster_bootstrap"
            else _leave_one_cluster_out(start, stop, n_clu, batch)
        )
        batches = [cluster_weighted_flows(survey, w) for _, w in weights]
    v = np.concatenate([b.vectors for b in batches]) if batches else np.zeros((0, 3))
    notes = [f"left out: {note}" if note else "" for b in batches for note in b.notes]
    return Table(
        [[kind] * len(v), np.arange(start, stop), v[:, 0], v[:, 1], v[:, 2], notes],
        names=COLUMNS,
        dtype=(str, int, float, float, float, str),
    )


def _leave_one_run_out(
    start: int, stop: int, clusters: Table, galaxies: Table, dispersions: Table, settings: FlowSettings
) -> Table:
    rows = []
    n_runs = int(np.max(dispersions["run"])) + 1
    for i in range(start, stop):
        subsample, note = without_run(i, clusters, galaxies, dispersions)
        if subsample is None:
            rows.append(("jackknife_run", i, np.nan, np.nan, np.nan, note))
            continue
        result = analyse_survey(*subsample, settings=settings, n_runs=n_runs, with_table=False)
        rows.append(("jackknife_run", i, *result.flow.vector, note))
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
        return None, f"without run {run} the runs fall into untied groups {groups}: left out" + (
            f"; {note}" if note else ""
        )
    return tuple(survey), note


def summarise(realisations: Table, reference: NDArray, analytic_covariance: NDArray) -> dict:
    """Covariances of each kind (bootstrap: sample covariance; jackknife: (n-1)/n sum of outer products),
    the largest single-cluster shift, and the analytic covariance for comparison.

    Realisations without a flow (NaN) are left out of the covariances and listed in ``notes`` (for a
    bootstrap, the first :data:`MAX_NOTES` of them and their number ``n_left_out``)."""
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
            out[kind] = {
                "n": n,
                "covariance_kms2": covariance.tolist(),
                "max_shift_kms": float(shifts.max()),
                "max_shift_index": int(np.asarray(rows["realisation"])[np.argmax(shifts)]),
                "notes": notes,
            }
        else:
            covariance = np.cov(v.T)
            out[kind] = {
                "n": len(v),
                "covariance_kms2": covariance.tolist(),
                "rms_amplitude_error_kms": float(np.sqrt(np.trace(covariance))),
                "n_left_out": len(notes),
                "notes": notes[:MAX_NOTES],
            }
    return out


def gather(parts: list[Table]) -> Table:
    """Concatenate chunk tables in (kind, realisation) order."""
    table = vstack(parts)
    order = np.lexsort((np.asarray(table["realisation"]), [KINDS.index(k) for k in table["kind"]]))
    return table[order]
