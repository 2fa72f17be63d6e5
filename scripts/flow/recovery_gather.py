"""Gather the Monte-Carlo recovery chunks into recovery.json and its figure."""

import matplotlib.pyplot as plt
from astropy.table import Table, vstack

from astropipe.flow.figures import recovery_coverage
from astropipe.flow.recovery import summarise_recovery
from astropipe.io import atomic_output, write_json
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "flow_recovery_gather")
realisations = vstack([Table.read(path, format="ascii.ecsv") for path in snakemake.input.chunks])
realisations.sort("realisation")
summary = summarise_recovery(realisations)
write_json(summary, snakemake.output.summary)
figure = recovery_coverage(realisations, summary)
with atomic_output(snakemake.output.figure) as path:
    figure.savefig(path, dpi=120)
plt.close(figure)
log.info(
    "%d surveys: 68 %% coverage %.3f, 95 %% coverage %.3f, bias %s km/s",
    summary["n_realisations"],
    summary["coverage"]["68"]["fraction"],
    summary["coverage"]["95"]["fraction"],
    [round(b) for b in summary["bias_vector_kms"]],
)
