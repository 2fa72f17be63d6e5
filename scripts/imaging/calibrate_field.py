"""Calibrated H, K catalogue of one field: aperture corrections, extinction, band match, colour system."""

import json
from pathlib import Path

from astropy.table import Table

from astropipe.calibrate.field_catalogue import calibrated_catalogue
from astropipe.io import write_table
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_calibrate")
paths = {"H": snakemake.input.catalog_h, "Ks": snakemake.input.catalog_k}
catalogue = calibrated_catalogue(
    {band: Table.read(path, format="ascii.ecsv") for band, path in paths.items()},
    json.loads(Path(snakemake.input.calibration).read_text()),
    snakemake.params.calibration,
    paths=paths,
    calibration_path=snakemake.input.calibration,
    log=log,
)
catalogue.meta = {"field": snakemake.wildcards.field, "night": snakemake.wildcards.night, **catalogue.meta}
write_table(catalogue, snakemake.output.catalog, format="ascii.ecsv")
