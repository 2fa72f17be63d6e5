"""Write the truth of the simulated night: stars, scene, instrument, survey labels, response."""

from pathlib import Path

from astropy.io import fits

from astropipe.io import atomic_output, write_json, write_table
from astropipe.io.rule_log import rule_logger
from astropipe.simulate.night import NightSimulation

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "simulate_truth")
truth = NightSimulation(snakemake.params.imaging, Path(snakemake.input.standards).parent).truth()
write_table(truth["stars"], snakemake.output.stars, format="ascii.ecsv")
write_table(truth["labels"], snakemake.output.labels, format="ascii.ecsv")
write_json(truth["scene"], snakemake.output.scene)
write_json(truth["instrument"], snakemake.output.instrument)
with atomic_output(snakemake.output.response) as path:
    fits.PrimaryHDU(truth["response"]).writeto(path)
log.info("truth: %d stars in %d fields", len(truth["stars"]), len(truth["scene"]["fields"]))
