"""Write the simulated survey's candidate list (the observing log a real survey would have)."""

from pathlib import Path

from astropipe.io import write_table
from astropipe.io.rule_log import rule_logger
from astropipe.simulate.night import NightSimulation

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "simulate_candidate_list")
table = NightSimulation(snakemake.params.imaging, Path(snakemake.input.standards).parent).candidate_list()
write_table(table, snakemake.output[0], format="ascii.ecsv")
log.info("%d candidate fields", len(table))
