"""Speed of the flow resampling: the chain for many realisations at once against the chain per realisation.

Ours: ``astropipe.flow.resample.run_realisations``, which runs the whole chain (run offsets -> inverse FP
-> distances -> Malmquist -> zero point -> bulk flow) for a batch of realisations at once
(``astropipe.flow.batch_chain``). Peer: the same chain run once per realisation
(``astropipe.flow.peculiar.analyse_survey`` with the survey's constants shared), on the same bootstrap
counts; the two must give the same flows to 1e-8 km/s. Both include drawing the bootstrap counts.

Printed: realisations/s of each bootstrap kind on the paper-sized survey (56 clusters, 699 galaxies,
12 runs), the growth with survey size up to 10^4 clusters and 10^5 galaxies, and - with
``--workflow`` - the wall time of ``snakemake --cores 2`` producing ``resampling.json`` with 10^5
realisations of each bootstrap kind plus both jackknives, in a fresh directory. Last line: the usual
comparison.

Run: python benchmarks/flow_resampling.py [--workflow]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from astropipe.flow.peculiar import analyse_survey, survey_constants
from astropipe.flow.resample import bootstrap_counts, run_realisations
from astropipe.flow.survey import SurveySpec, simulate_survey

#: the largest difference accepted between the two computations, km/s
SAME_FLOW_KMS = 1e-8


def batched_rate(survey: tuple, kind: str, n: int, repeats: int = 3) -> tuple[float, np.ndarray]:
    """Best-of-``repeats`` realisations/s of ``run_realisations`` and its flows."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        table = run_realisations(kind, 0, n, *survey, seed=1)
        best = min(best, time.perf_counter() - start)
    return n / best, np.column_stack([table["vx"], table["vy"], table["vz"]])


def per_realisation_rate(survey: tuple, kind: str, n: int) -> tuple[float, np.ndarray]:
    """Realisations/s of the chain run once per realisation on the same counts, and its flows."""
    clusters, galaxies, dispersions = survey
    constants = survey_constants(clusters, galaxies)
    n_runs = int(np.max(dispersions["run"])) + 1
    argument, n_items = (
        ("measurement_weights", len(dispersions)) if kind == "run_bootstrap" else ("cluster_weights", len(clusters))
    )
    start = time.perf_counter()
    vectors = [
        analyse_survey(
            clusters, galaxies, dispersions, n_runs=n_runs, constants=constants, with_table=False, **{argument: row}
        ).flow.vector
        for _, counts in bootstrap_counts(1, kind, 0, n, n_items)
        for row in counts
    ]
    return n / (time.perf_counter() - start), np.array(vectors)


def workflow_wall_time(bootstrap: int = 100_000, chunks: int = 2, cores: int = 2) -> float:
    """Seconds for ``snakemake --cores`` to produce resampling.json from nothing (flow branch only)."""
    repo = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((repo / "config.yaml").read_text())
    config["flow"]["resampling"].update({"bootstrap": bootstrap, "chunks": chunks})
    config["flow"]["supernovae"] = None
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "snakemake",
                "--snakefile",
                str(repo / "Snakefile"),
                f"results/flow/{config['flow']['survey']}/resampling.json",
                "--cores",
                str(cores),
                "--directory",
                workdir,
                "--configfile",
                str(path),
                "--quiet",
            ],
            check=True,
        )
        return time.perf_counter() - start


def main() -> None:
    if "--workflow" in sys.argv:
        seconds = workflow_wall_time()
        print(f"workflow: 2 x 100,000 bootstrap realisations + both jackknives, 2 chunks, --cores 2: {seconds:.1f} s")
    for n_clusters, n_galaxies, n_runs, n in (
        (56, 699, 12, 10000),
        (560, 6990, 24, 2000),
        (2000, 20000, 48, 500),
        (10000, 100000, 120, 100),
    ):
        spec = SurveySpec(n_clusters=n_clusters, n_galaxies=n_galaxies, n_runs=n_runs)
        survey = simulate_survey(spec, np.random.default_rng(2))[:3]
        start = time.perf_counter()
        rates = {kind: batched_rate(survey, kind, n, repeats=1)[0] for kind in ("run_bootstrap", "cluster_bootstrap")}
        print(
            f"{n_clusters:6d} clusters {n_galaxies:7d} galaxies {n_runs:4d} runs: run bootstrap "
            f"{rates['run_bootstrap']:8.1f}/s, cluster bootstrap {rates['cluster_bootstrap']:8.1f}/s "
            f"({time.perf_counter() - start:.1f} s)"
        )
    survey = simulate_survey(SurveySpec(), np.random.default_rng(2))[:3]
    lines = []
    for kind in ("cluster_bootstrap", "run_bootstrap"):
        ours, v_ours = batched_rate(survey, kind, 20000)
        peer, v_peer = per_realisation_rate(survey, kind, 1000)
        difference = float(np.max(np.abs(v_ours[:1000] - v_peer)))
        assert difference < SAME_FLOW_KMS, f"{kind}: the two computations differ by {difference:.3g} km/s"
        lines.append(
            f"flow_resampling ({kind.replace('_', ' ')}, largest difference {difference:.1e} km/s): "
            f"realisations/s {ours:.0f} vs per-realisation chain {peer:.0f}, ratio {ours / peer:.1f}"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
