"""Classify and validate every raw frame of the night (headers only)."""

from astropipe.io import write_table
from astropipe.io.rule_log import rule_logger
from astropipe.reduce.ingest import classify_frames, validate_night
from astropipe.reduce.raw_files import find_raw_frames

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_ingest")
paths = find_raw_frames(snakemake.input)
frames = classify_frames(paths, snakemake.params.field_names, log)
validate_night(frames, snakemake.wildcards.night)
for kind in sorted(set(frames["type"])):
    log.info("%s: %d frames", kind, (frames["type"] == kind).sum())
write_table(frames, snakemake.output[0], format="ascii.ecsv")
