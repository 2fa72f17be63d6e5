"""Write the 2MASS-like reference catalogue of a simulated field."""

from pathlib import Path

from astropipe.io import write_table
from astropipe.io.rule_log import rule_logger
from astropipe.simulate.night import NightSimulation

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "simulate_reference_catalogue")
night = NightSimulation(snakemake.params.imaging, Path(snakemake.input.standards).parent)
table = night.reference_catalogue(snakemake.wildcards.field)
write_table(table, snakemake.output[0], format="ascii.ecsv")
log.info("%d reference stars for %s", len(table), snakemake.wildcards.field)
