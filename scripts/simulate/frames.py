"""Write the simulated night's calibration or standard-star frames (raw FITS), atomically.

``params.kind`` selects what: ``calibrations`` (darks, lamp flats, illumination
corrections, bad-pixel map) or ``standards`` (Persson standards at every airmass).
"""

from pathlib import Path

from astropipe.io import atomic_directory
from astropipe.io.rule_log import rule_logger
from astropipe.simulate.night import NightSimulation

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
kind = snakemake.params.kind
log = rule_logger(snakemake.log[0], f"simulate_{kind}")
night = NightSimulation(snakemake.params.imaging, Path(snakemake.input.standards).parent)
writers = {"calibrations": night.write_calibrations, "standards": night.write_standards}
with atomic_directory(snakemake.output[0]) as directory:
    paths = writers[kind](directory)
log.info("wrote %d %s frames to %s", len(paths), kind, snakemake.output[0])
