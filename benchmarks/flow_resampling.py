"""Speed of the flow chain per resampling realisation, and its scaling.

Ours: ``astropipe.flow.peculiar.analyse_survey`` (run offsets with the
galaxies eliminated analytically; inverse FP by the within-cluster
regression). Peer: the textbook formulation of the same chain - the run
offsets as one sparse least-squares problem over galaxies and runs
(scipy ``lsqr``) and the FP as a dense regression with one dummy column per
cluster (``numpy.linalg.lstsq``) - checked to give the same flow. Prints
realisations/s of whole-chain run-bootstrap realisations for surveys of 28,
56 and 112 clusters (12.5 galaxies per cluster), the rate at 100, 1000 and
4000 realisations (growth with N), and - with ``--workflow`` - the wall
time of the paper-sized job the issue asks for: ``snakemake --cores 2`` of
``resampling.json`` with 10,000 realisations of each bootstrap kind plus
both jackknives in 20 chunks, in a fresh directory (simulation, fit,
chunks, gather with the subsample table). Last line: the usual comparison
for the paper-sized survey.

A second comparison in the same run: the chain with its constants shared (``survey_constants``, the
hemisphere test remembered, no per-cluster table) against the same chain recomputing them for every
realisation, checked to give the same flows to the bit.

Run: python benchmarks/flow_resampling.py [--workflow]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np
import yaml
from scipy.sparse import coo_matrix, vstack
from scipy.sparse.linalg import lsqr

import astropipe.flow.peculiar as peculiar
from astropipe.flow.bulkflow import _hemisphere_of
from astropipe.flow.fundamental_plane import InverseFP
from astropipe.flow.resample import _rng, run_realisations
from astropipe.flow.survey import SurveySpec, simulate_survey


def textbook_run_offsets(dispersions, n_galaxies, n_runs, weights=None):
    galaxy, run = np.asarray(dispersions["galaxy"]), np.asarray(dispersions["run"])
    w = 1.0 / np.asarray(dispersions["log_sigma_err"]) ** 2 * (1.0 if weights is None else weights)
    sw, m = np.sqrt(w), galaxy.size
    rows = np.arange(m)
    design = coo_matrix((np.concatenate([sw, sw]), (np.concatenate([rows, rows]), np.concatenate([galaxy, n_galaxies + run]))),
                        shape=(m, n_galaxies + n_runs))  # fmt: skip
    constraint = coo_matrix((np.full(n_runs, 1e3), (np.zeros(n_runs, int), n_galaxies + np.arange(n_runs))),
                            shape=(1, n_galaxies + n_runs))  # fmt: skip
    target = np.concatenate([sw * np.asarray(dispersions["log_sigma"]), [0.0]])
    return lsqr(vstack([design, constraint]).tocsr(), target, atol=1e-12, btol=1e-12, iter_lim=20000)[0][n_galaxies:]


def textbook_inverse_fp(log_sigma, log_theta, mu_e, cluster_index, n_clusters, weights=None):
    n = log_sigma.size
    design = np.zeros((n, 2 + n_clusters))
    design[:, 0], design[:, 1] = log_theta, mu_e
    design[np.arange(n), 2 + cluster_index] = 1.0
    coefficients, *_ = np.linalg.lstsq(design, log_sigma, rcond=None)
    residual = log_sigma - design @ coefficients
    counts = np.bincount(cluster_index, minlength=n_clusters)
    rms = float(np.sqrt(np.sum(residual**2) / (n - 2 - n_clusters)))
    return InverseFP(float(coefficients[0]), float(coefficients[1]), coefficients[2:], rms / np.sqrt(counts), rms, counts)


def rate(survey, n, textbook=False):
    clusters, galaxies, dispersions, _ = survey
    if textbook:
        patches = (mock.patch.object(peculiar, "run_offsets", textbook_run_offsets),
                   mock.patch.object(peculiar, "fit_inverse_fp", textbook_inverse_fp))  # fmt: skip
    else:
        patches = ()
    for patch in patches:
        patch.start()
    try:
        start = time.perf_counter()
        table = run_realisations("run_bootstrap", 0, n, clusters, galaxies, dispersions, seed=1)
        elapsed = time.perf_counter() - start
    finally:
        for patch in patches:
            patch.stop()
    return n / elapsed, np.column_stack([table["vx"], table["vy"], table["vz"]])


def rate_recomputing_constants(survey, n):
    """The same run-bootstrap realisations with everything recomputed per realisation (coordinates, the
    per-cluster table, the hemisphere test): the chain as it was before its constants were shared."""
    clusters, galaxies, dispersions, _ = survey
    n_meas, n_runs = len(dispersions), int(np.max(dispersions["run"])) + 1
    vectors = []
    start = time.perf_counter()
    for i in range(n):
        weights = np.bincount(_rng(1, "run_bootstrap", i).integers(n_meas, size=n_meas), minlength=n_meas).astype(float)
        _hemisphere_of.cache_clear()
        vectors.append(peculiar.analyse_survey(clusters, galaxies, dispersions, n_runs=n_runs,
                                               measurement_weights=weights).flow.vector)  # fmt: skip
    return n / (time.perf_counter() - start), np.array(vectors)


def workflow_wall_time(bootstrap: int = 10000, chunks: int = 20, cores: int = 2) -> float:
    """Seconds for ``snakemake --cores`` to produce resampling.json from nothing (flow branch only)."""
    repo = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((repo / "config.yaml").read_text())
    config["flow"]["resampling"].update({"bootstrap": bootstrap, "chunks": chunks})
    config["flow"]["supernovae"] = None
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(repo / "Snakefile"),
                        f"results/flow/{config['flow']['survey']}/resampling.json", "--cores", str(cores),
                        "--directory", workdir, "--configfile", str(path), "--quiet"], check=True)  # fmt: skip
        return time.perf_counter() - start


def main() -> None:
    if "--workflow" in sys.argv:
        seconds = workflow_wall_time()
        print(f"workflow: 2 x 10,000 bootstrap realisations + both jackknives, 20 chunks, --cores 2: {seconds:.0f} s")
    survey = simulate_survey(SurveySpec(), np.random.default_rng(2))
    for n in (100, 1000, 4000):
        print(f"{n:5d} realisations: {rate(survey, n)[0]:7.0f} realisations/s (ours)")
    for n_clusters in (28, 56, 112):
        survey = simulate_survey(SurveySpec(n_clusters=n_clusters, n_galaxies=int(12.5 * n_clusters)),
                                 np.random.default_rng(2))  # fmt: skip
        ours, _ = rate(survey, 200)
        print(f"{n_clusters:4d} clusters: {ours:7.0f} realisations/s (ours)")
    ours, v_ours = rate(survey, 200)
    peer, v_peer = rate(survey, 50, textbook=True)
    assert np.allclose(v_ours[:50], v_peer, atol=0.5), "the two formulations disagree"
    recomputing, v_recomputing = rate_recomputing_constants(survey, 50)
    assert np.array_equal(v_ours[:50], v_recomputing), "sharing the constants changed the flows"
    print(f"constants shared: realisations/s {ours:.0f} vs recomputed per realisation {recomputing:.0f}, "
          f"ratio {ours / recomputing:.1f}")
    print(f"10,000 run-bootstrap realisations of the paper-sized survey: {1e4 / ours:.0f} s on one core (ours)")
    print(f"flow_resampling: realisations/s {ours:.0f} vs textbook-chain {peer:.0f}, ratio {ours / peer:.1f}")


if __name__ == "__main__":
    main()
