"""Gather the lensing chunks into results/lensing/grid.ecsv."""

from astropy.table import QTable

from astropipe.io import write_table
from astropipe.io.rule_log import rule_logger
from astropipe.lensing.grid import gather

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "lensing_gather")
table = gather([QTable.read(path, format="ascii.ecsv") for path in snakemake.input])
write_table(table, snakemake.output[0], format="ascii.ecsv")
log.info("gathered %d chunks, %d rows into %s", len(snakemake.input), len(table), snakemake.output[0])
