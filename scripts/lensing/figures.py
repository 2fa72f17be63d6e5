"""Draw the lensing figures from results/lensing/grid.ecsv."""

import matplotlib.pyplot as plt
from astropy.table import Table

from astropipe.io import atomic_output
from astropipe.io.rule_log import rule_logger
from astropipe.lensing import figures

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "lensing_figures")
table = Table.read(snakemake.input.grid, format="ascii.ecsv")
speed = snakemake.params.massive_speed
drawers = {
    "joshi_fig1a_classical_vs_relativistic": lambda: figures.classical_vs_relativistic(table, speed),
    "joshi_fig1b_light_vs_massive": lambda: figures.light_vs_massive(table, speed),
    "deflection_vs_impact_parameter": lambda: figures.deflection_vs_impact_parameter(table),
    "time_delay": lambda: figures.time_delay(table),
    "cross_section": lambda: figures.cross_section(table),
}
for name, draw in drawers.items():
    figure = draw()
    with atomic_output(snakemake.output[name]) as path:
        figure.savefig(path, dpi=120)
    plt.close(figure)
    log.info("wrote %s", snakemake.output[name])
