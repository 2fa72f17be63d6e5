"""Write one simulated dithered sequence (field, filter) of raw FITS frames, atomically."""

from pathlib import Path

from astropipe.io import atomic_directory
from astropipe.io.rule_log import rule_logger
from astropipe.simulate.night import NightSimulation

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "simulate_sequence")
field, band = snakemake.wildcards.field, snakemake.wildcards.filter
night = NightSimulation(snakemake.params.imaging, Path(snakemake.input.standards).parent)
if (field, band) not in night.sequences():
    raise ValueError(f"no sequence ({field}, {band}) in the configuration; known: {sorted(night.sequences())}")
with atomic_directory(snakemake.output[0]) as directory:
    paths = night.write_sequence(field, band, directory)
log.info("wrote %d exposures of %s in %s", len(paths), field, band)
