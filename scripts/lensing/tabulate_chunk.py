"""Tabulate the lensing quantities on one chunk of the (v, b) grid."""

from astropipe.io import write_table
from astropipe.io.rule_log import rule_logger
from astropipe.lensing.grid import grid_points, tabulate

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "lensing_chunk")
grid = snakemake.params.grid
chunk = int(snakemake.wildcards.chunk)
v, b = grid_points(
    snakemake.params.speeds,
    grid["min_over_critical"],
    grid["max_over_mass"],
    grid["points"],
    chunk=chunk,
    chunks=snakemake.params.chunks,
)
log.info("chunk %d of %d: %d grid points", chunk, snakemake.params.chunks, v.size)
table = tabulate(v, b, snakemake.params.plane_distance, snakemake.params.delay_radius)
write_table(table, snakemake.output[0], format="ascii.ecsv")
log.info("wrote %s", snakemake.output[0])
