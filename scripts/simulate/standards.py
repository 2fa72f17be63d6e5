"""Write the simulated night's standards (raw FITS) into the output directory, atomically."""

from astropipe.io import atomic_directory
from astropipe.io.rule_log import rule_logger
from astropipe.simulate.night import NightSimulation

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "simulate_standards")
night = NightSimulation(snakemake.params.imaging, snakemake.params.reference_dir)
with atomic_directory(snakemake.output[0]) as directory:
    paths = night.write_standards(directory)
log.info("wrote %d frames to %s", len(paths), snakemake.output[0])
