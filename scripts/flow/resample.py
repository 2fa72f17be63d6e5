"""One chunk of the resampling realisations (all kinds, flattened and split evenly)."""

import numpy as np
from astropy.table import Table, vstack

from astropipe.flow.peculiar import FlowSettings
from astropipe.flow.resample import COLUMNS, KINDS, chunk_ranges, realisation_count, run_realisations
from astropipe.io import write_table
from astropipe.io.rule_log import Progress, rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "flow_resample")
settings = FlowSettings.from_config(snakemake.params.analysis)
resampling = snakemake.params.resampling
clusters, galaxies, dispersions = (
    Table.read(snakemake.input[n], format="ascii.ecsv") for n in ("clusters", "galaxies", "dispersions")
)
n_runs = int(np.max(dispersions["run"])) + 1
plan = [
    (kind, i) for kind in KINDS for i in range(realisation_count(kind, resampling["bootstrap"], len(clusters), n_runs))
]
start, stop = chunk_ranges(len(plan), resampling["chunks"])[int(snakemake.wildcards.chunk)]
mine = plan[start:stop]
progress = Progress(log, f"chunk {snakemake.wildcards.chunk}", len(mine))
parts = []
for kind in KINDS:
    indices = [i for k, i in mine if k == kind]
    if indices:
        parts.append(
            run_realisations(
                kind, indices[0], indices[-1] + 1, clusters, galaxies, dispersions, snakemake.params.seed, settings
            )
        )
        progress.update(sum(len(p) for p in parts))
empty = Table(names=COLUMNS, dtype=(str, int, float, float, float, str))
write_table(vstack(parts) if parts else empty, snakemake.output[0], format="ascii.ecsv")
log.info("realisations %d-%d of %d", start, stop, len(plan))
