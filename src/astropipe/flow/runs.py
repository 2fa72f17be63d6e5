"""Homogenisation of velocity dispersions across spectroscopic runs (Hudson et al. 1999, §2).

Each measurement is log sigma_gj = S_g + o_run(j) + noise. Galaxies measured
in more than one run tie the runs together; the offsets o are the weighted
least-squares solution with sum(o) = 0 (the common zero point is absorbed by
the FP zero point). Homogenised dispersions are the weighted means of the
offset-corrected measurements. The offsets are defined only when every run is
tied to every other (:func:`tied_run_groups` has one group).
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["homogenise", "run_offsets", "tied_run_groups"]


def run_offsets(dispersions: Table, n_galaxies: int, n_runs: int, weights: NDArray | None = None) -> NDArray:
    """Run offsets (dex) from galaxies measured in several runs; sum of offsets = 0.

    The galaxies' true dispersions are eliminated analytically: with W_g the
    total weight of galaxy g, the normal equations for the offsets are
    sum_gj w_gj (d_jk - w_gk / W_g) o_k = sum_gj w_gj (s_gj - <s>_g) [j = k rows],
    a small n_runs x n_runs system (plus the constraint). ``weights`` (one per
    measurement, e.g. bootstrap counts) multiply the inverse variances.
    """
    galaxy, run = np.asarray(dispersions["galaxy"]), np.asarray(dispersions["run"])
    w = 1.0 / np.asarray(dispersions["log_sigma_err"]) ** 2
    if weights is not None:
        w = w * np.asarray(weights, float)
    s = np.asarray(dispersions["log_sigma"])
    total = np.bincount(galaxy, weights=w, minlength=n_galaxies)
    safe = np.where(total > 0, total, 1.0)
    mean = np.bincount(galaxy, weights=w * s, minlength=n_galaxies) / safe
    # per-galaxy weight vectors over runs: a[g, k] = sum of w of galaxy g's measurements in run k
    a = np.zeros((n_galaxies, n_runs))
    np.add.at(a, (galaxy, run), w)
    normal = np.diag(a.sum(axis=0)) - (a / safe[:, None]).T @ a
    rhs = np.bincount(run, weights=w * (s - mean[galaxy]), minlength=n_runs)
    normal += 1e3 * np.ones((n_runs, n_runs))  # the constraint sum(o) = 0, strongly weighted
    return np.linalg.solve(normal, rhs)


def homogenise(dispersions: Table, offsets: NDArray, n_galaxies: int) -> tuple[NDArray, NDArray]:
    """Per-galaxy log sigma and its error after removing the run offsets."""
    galaxy = np.asarray(dispersions["galaxy"])
    w = 1.0 / np.asarray(dispersions["log_sigma_err"]) ** 2
    corrected = np.asarray(dispersions["log_sigma"]) - offsets[np.asarray(dispersions["run"])]
    total = np.bincount(galaxy, weights=w, minlength=n_galaxies)
    if np.any(total == 0):
        raise ValueError(f"galaxies without a velocity dispersion: {np.flatnonzero(total == 0)[:5].tolist()}")
    return np.bincount(galaxy, weights=w * corrected, minlength=n_galaxies) / total, 1.0 / np.sqrt(total)


def tied_run_groups(galaxy: np.ndarray, run: np.ndarray) -> list[list[int]]:
    """The groups of runs connected by galaxies measured in two of them (one group: all offsets defined)."""
    runs = np.unique(run)
    if runs.size <= 1:
        return [runs.tolist()]
    run_index = np.searchsorted(runs, run)
    n_galaxies = int(galaxy.max()) + 1
    graph = coo_matrix((np.ones(galaxy.size), (galaxy, n_galaxies + run_index)), shape=(n_galaxies + runs.size,) * 2)
    _, label = connected_components(graph, directed=False)
    run_label = label[n_galaxies:]
    return sorted((runs[run_label == value].tolist() for value in np.unique(run_label)), key=lambda group: group[0])
