"""Draw the flow figures (Hudson et al. 1999 Figs. 1 and 3)."""

import json
from pathlib import Path

import matplotlib.pyplot as plt
from astropy.table import Table

from astropipe.flow.figures import aitoff_directions, supergalactic_projection, velocity_vs_apex_angle
from astropipe.io import atomic_output, write_table
from astropipe.io.report_tables import bulk_flow_table
from astropipe.io.rule_log import rule_logger
from astropipe.random_streams import random_stream

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "flow_figures")
clusters = Table.read(snakemake.input.clusters, format="ascii.ecsv")
summary = json.loads(Path(snakemake.input.bulkflow).read_text())
figures = {
    "velocity_vs_apex_angle": velocity_vs_apex_angle(clusters, summary),
    "supergalactic_projection": supergalactic_projection(clusters),
    "aitoff_directions": aitoff_directions(clusters, summary, random_stream(snakemake.params.seed)),
}
for name, figure in figures.items():
    with atomic_output(snakemake.output[name]) as path:
        figure.savefig(path, dpi=120)
    plt.close(figure)
    log.info("wrote %s", snakemake.output[name])
write_table(bulk_flow_table(summary, snakemake.wildcards.survey), snakemake.output.table, format="ascii.csv")
