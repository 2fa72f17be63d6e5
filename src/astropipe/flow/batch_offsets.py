"""Spectroscopic-run offsets for many bootstrap realisations at once (Hudson et al. 1999, §2).

:func:`astropipe.flow.runs.run_offsets` solves, for one set of measurement weights, the normal equations
of log sigma_gj = S_g + o_run(j) + noise with the galaxies' S_g eliminated. Its matrix is a weighted graph
Laplacian of the runs: every pair (i, j) of measurements of one galaxy g in runs k != l ties the runs with
weight w_i w_j / W_g (W_g the galaxy's total weight),

    N = sum_pairs w_i w_j / W_g (e_k - e_l)(e_k - e_l)^T + 10^3 1 1^T,

the last term the constraint sum(o) = 0. Only galaxies seen in more than one run enter. The runs are
tied (the offsets defined) when the pairs with weight connect every run; a realisation is certainly tied
when it keeps every edge of one of a few spanning trees of the survey's tie graph, and is otherwise
tested exactly (a second near-zero eigenvalue of N means untied runs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

from astropipe.random_streams import random_stream

__all__ = ["UNTIED_EIGENVALUE_RATIO", "RunOffsetSystem", "run_offset_system"]

#: a normal matrix whose smallest eigenvalue is below this fraction of its largest leaves runs untied
UNTIED_EIGENVALUE_RATIO = 1e-10
#: how many spanning trees of the tie graph serve as quick proofs that a realisation's runs are tied
SPANNING_TREES = 8


@dataclass(frozen=True)
class RunOffsetSystem:
    """The run-offset normal equations of a survey, ready for any number of weight sets.

    Attributes
    ----------
    kept : numpy.ndarray of int (m,)
        Rows of the dispersion table measuring galaxies seen in more than one run.
    inverse_variance, log_sigma : numpy.ndarray (m,)
        1 / log_sigma_err^2 and log_sigma (dex) of those rows.
    galaxy : numpy.ndarray (m,)
        Each row's galaxy, numbered among the galaxies kept; ``galaxy_sum`` sums an (m, R) array per galaxy.
    run_sum : scipy.sparse.csr_matrix (m, n_runs)
        Sums an (m, R) array per run.
    tie_first, tie_second : numpy.ndarray (p,)
        The two measurements of each tie (a pair of measurements of one galaxy in two runs).
    tie_cells : scipy.sparse.csr_matrix (p, n_runs^2)
        Each tie's (e_k - e_l)(e_k - e_l)^T, flattened.
    tie_edge : scipy.sparse.csr_matrix (p, n_edges)
        Which pair of runs (edge of the tie graph) each tie belongs to.
    spanning_trees : numpy.ndarray of int (t, n_runs - 1)
        Edges of spanning trees of the tie graph.
    """

    kept: NDArray
    inverse_variance: NDArray
    log_sigma: NDArray
    galaxy: NDArray
    galaxy_sum: csr_matrix
    run_sum: csr_matrix
    tie_first: NDArray
    tie_second: NDArray
    tie_cells: csr_matrix
    tie_edge: csr_matrix
    spanning_trees: NDArray
    n_runs: int

    def offsets(self, measurement_weights: NDArray) -> tuple[NDArray, NDArray]:
        """Run offsets for R sets of per-measurement weights (R, n_measurements), e.g. bootstrap counts.

        Returns
        -------
        offsets : numpy.ndarray (R, n_runs)
            dex; the rows of untied realisations are meaningless.
        untied : numpy.ndarray of bool (R,)
            Realisations whose weighted measurements do not tie every run to the others.
        """
        # measurements along the first axis: the gathers below copy whole rows
        omega = (
            np.ascontiguousarray(np.asarray(measurement_weights, float).T[self.kept]) * self.inverse_variance[:, None]
        )
        total = self.galaxy_sum.T @ omega
        safe = np.where(total > 0, total, 1.0)
        mean = (self.galaxy_sum.T @ (omega * self.log_sigma[:, None])) / safe
        ties = omega[self.tie_first] * omega[self.tie_second] / safe[self.galaxy[self.tie_first]]
        n = self.n_runs
        normal = (self.tie_cells.T @ ties).T.reshape(-1, n, n) + 1e3  # + the constraint sum(o) = 0
        rhs = (self.run_sum.T @ (omega * (self.log_sigma[:, None] - mean[self.galaxy]))).T
        untied = self._untied(normal, (self.tie_edge.T @ ties).T > 0)
        normal[untied] = np.eye(n)
        return np.linalg.solve(normal, rhs[..., None])[..., 0], untied

    def _untied(self, normal: NDArray, edge_kept: NDArray) -> NDArray:
        """The realisations whose runs are not all tied: exact test only where no spanning tree survives."""
        tied = (
            np.any(np.all(edge_kept[:, self.spanning_trees], axis=2), axis=1)
            if self.n_runs > 1
            else np.ones(len(normal), bool)
        )
        untied = np.zeros(len(normal), bool)
        doubtful = np.flatnonzero(~tied)
        if doubtful.size:
            eigenvalues = np.linalg.eigvalsh(normal[doubtful])
            untied[doubtful] = eigenvalues[:, 0] < UNTIED_EIGENVALUE_RATIO * eigenvalues[:, -1]
        return untied


def _indicator(columns: NDArray, n_columns: int, values: NDArray | None = None) -> csr_matrix:
    """The (len(columns), n_columns) matrix with ``values`` (1) in each row's column: sums a row array per column."""
    values = np.ones(columns.size) if values is None else values
    return csr_matrix((values, (np.arange(columns.size), columns)), shape=(columns.size, n_columns))


def _spanning_trees(edges: NDArray, ties_per_edge: NDArray, n_runs: int) -> NDArray:
    """Up to :data:`SPANNING_TREES` distinct spanning trees of the tie graph, made of well-supported edges
    (minimum spanning trees for random edge lengths inversely proportional to the number of ties; a
    fixed generator, so a survey always gets the same trees)."""
    rng = random_stream(0)
    trees = set()
    for _ in range(4 * SPANNING_TREES):
        weights = rng.uniform(1.0, 2.0, len(edges)) / ties_per_edge
        tree = minimum_spanning_tree(coo_matrix((weights, (edges[:, 0], edges[:, 1])), shape=(n_runs, n_runs))).tocoo()
        if tree.nnz == n_runs - 1:
            index = {pair: e for e, pair in enumerate(map(tuple, edges.tolist()))}
            trees.add(tuple(sorted(index[(int(a), int(b))] for a, b in zip(tree.row, tree.col, strict=True))))
        if len(trees) == SPANNING_TREES:
            break
    return np.array(sorted(trees), dtype=int).reshape(-1, n_runs - 1)


def run_offset_system(dispersions: Table, n_runs: int) -> RunOffsetSystem:
    """The :class:`RunOffsetSystem` of a dispersion table (``galaxy``, ``run``, ``log_sigma``, ``log_sigma_err``)."""
    galaxy, run = np.asarray(dispersions["galaxy"]), np.asarray(dispersions["run"])
    runs_of: dict[int, set[int]] = {}
    for g, r in zip(galaxy.tolist(), run.tolist(), strict=True):
        runs_of.setdefault(g, set()).add(r)
    kept = np.flatnonzero([len(runs_of[g]) > 1 for g in galaxy.tolist()])
    tied, local = np.unique(galaxy[kept], return_inverse=True)
    kept_run = run[kept]
    first, second = [], []
    for members in np.split(np.argsort(local, kind="stable"), np.cumsum(np.bincount(local, minlength=tied.size))[:-1]):
        for a, i in enumerate(members):
            for j in members[a + 1 :]:
                if kept_run[i] != kept_run[j]:
                    first.append(i)
                    second.append(j)
    first, second = np.array(first, dtype=int), np.array(second, dtype=int)
    low, high = np.minimum(kept_run[first], kept_run[second]), np.maximum(kept_run[first], kept_run[second])
    edges, edge_of_tie = np.unique(np.column_stack([low, high]).reshape(-1, 2), axis=0, return_inverse=True)
    ties = np.arange(first.size)
    cells = coo_matrix(
        (
            np.tile([1.0, 1.0, -1.0, -1.0], first.size),
            (
                np.repeat(ties, 4),
                np.column_stack(
                    [low * n_runs + low, high * n_runs + high, low * n_runs + high, high * n_runs + low]
                ).ravel(),
            ),
        ),
        shape=(first.size, n_runs * n_runs),
    ).tocsr()
    return RunOffsetSystem(
        kept=kept,
        inverse_variance=1.0 / np.asarray(dispersions["log_sigma_err"], float)[kept] ** 2,
        log_sigma=np.asarray(dispersions["log_sigma"], float)[kept],
        galaxy=local,
        galaxy_sum=_indicator(local, tied.size),
        run_sum=_indicator(kept_run, n_runs),
        tie_first=first,
        tie_second=second,
        tie_cells=cells,
        tie_edge=_indicator(edge_of_tie.ravel(), len(edges)),
        spanning_trees=_spanning_trees(edges, np.bincount(edge_of_tie.ravel(), minlength=len(edges)), n_runs),
        n_runs=n_runs,
    )
