"""Simulate the SMAC-like FP survey and write its input tables and truth."""

from astropipe.flow.survey import SurveySpec, simulate_survey
from astropipe.io import write_json, write_table
from astropipe.io.rule_log import rule_logger
from astropipe.random_streams import random_stream

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "flow_simulate_survey")
spec = SurveySpec(**snakemake.params.simulation)
clusters, galaxies, dispersions, truth = simulate_survey(spec, random_stream(snakemake.params.seed))
for name, table in (("clusters", clusters), ("galaxies", galaxies), ("dispersions", dispersions)):
    write_table(table, snakemake.output[name], format="ascii.ecsv")
write_json(truth, snakemake.output.truth)
log.info("%d clusters, %d galaxies, %d dispersion measurements", len(clusters), len(galaxies), len(dispersions))
