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

from astropipe.flow.peculiar import FlowSettings, analyse_survey

__all__ = ["KINDS", "chunk_ranges", "gather", "realisation_count", "run_realisations", "summarise"]

KINDS = ("run_bootstrap", "cluster_bootstrap", "jackknife_cluster", "jackknife_run")


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
    rows = []
    for i in range(start, stop):
        rng = _rng(seed, kind, i)
        if kind == "run_bootstrap":
            weights = np.bincount(rng.integers(n_meas, size=n_meas), minlength=n_meas).astype(float)
            result = analyse_survey(clusters, galaxies, dispersions, settings, n_runs, measurement_weights=weights)
        elif kind == "cluster_bootstrap":
            counts = np.bincount(rng.integers(n_clu, size=n_clu), minlength=n_clu).astype(float)
            result = analyse_survey(clusters, galaxies, dispersions, settings, n_runs, cluster_weights=counts)
        elif kind == "jackknife_cluster":
            weights = np.ones(n_clu)
            weights[i] = 0.0
            result = analyse_survey(clusters, galaxies, dispersions, settings, n_runs, cluster_weights=weights)
        else:
            keep = np.asarray(dispersions["run"]) != i
            still_measured = np.unique(np.asarray(dispersions["galaxy"])[keep])
            if still_measured.size < len(galaxies):
                # galaxies seen only in the dropped run leave the sample
                galaxy_keep = np.isin(np.asarray(galaxies["galaxy"]), still_measured)
                sub_galaxies = galaxies[galaxy_keep]
                renumber = {g: k for k, g in enumerate(sub_galaxies["galaxy"])}
                sub_disp = dispersions[keep]
                sub_disp["galaxy"] = [renumber[g] for g in sub_disp["galaxy"]]
                sub_galaxies["galaxy"] = np.arange(len(sub_galaxies))
            else:
                sub_galaxies, sub_disp = galaxies, dispersions[keep]
            result = analyse_survey(clusters, sub_galaxies, sub_disp, settings, n_runs)
        rows.append((kind, i, *result.flow.vector))
    return Table(rows=rows, names=("kind", "realisation", "vx", "vy", "vz"), dtype=(str, int, float, float, float))


def summarise(realisations: Table, reference: NDArray, analytic_covariance: NDArray) -> dict:
    """Covariances of each kind (bootstrap: sample covariance; jackknife: (n-1)/n sum of outer products),
    the largest single-cluster shift, and the analytic covariance for comparison."""
    out: dict = {"analytic_covariance_kms2": np.asarray(analytic_covariance).tolist()}
    for kind in KINDS:
        rows = realisations[realisations["kind"] == kind]
        if len(rows) == 0:
            continue
        v = np.column_stack([rows["vx"], rows["vy"], rows["vz"]])
        if kind.startswith("jackknife"):
            n = len(v)
            d = v - v.mean(axis=0)
            covariance = (n - 1) / n * d.T @ d
            shifts = np.linalg.norm(v - np.asarray(reference), axis=1)
            out[kind] = {"n": n, "covariance_kms2": covariance.tolist(), "max_shift_kms": float(shifts.max()),
                         "max_shift_index": int(np.asarray(rows["realisation"])[np.argmax(shifts)])}  # fmt: skip
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
