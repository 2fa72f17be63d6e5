"""One chunk of the Monte-Carlo recovery: simulate and analyse surveys with the injected flow."""

from astropipe.flow.peculiar import FlowSettings
from astropipe.flow.recovery import recover
from astropipe.flow.resample import chunk_ranges
from astropipe.flow.survey import SurveySpec
from astropipe.io import write_table
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "flow_recovery")
settings = FlowSettings.from_config(snakemake.params.analysis)
recovery = snakemake.params.recovery
start, stop = chunk_ranges(recovery["surveys"], recovery["chunks"])[int(snakemake.wildcards.chunk)]
table = recover(SurveySpec(**snakemake.params.simulation), snakemake.params.seed, start, stop, settings)
write_table(table, snakemake.output[0], format="ascii.ecsv")
log.info("surveys %d-%d of %d simulated and analysed", start, stop, recovery["surveys"])
