"""Gather the resampling chunks into results/flow/{survey}/resampling.json."""

import json
from pathlib import Path

import numpy as np
from astropy.table import Table

from astropipe.flow.error_budget import error_budget
from astropipe.flow.peculiar import FlowSettings
from astropipe.flow.resample import gather, summarise
from astropipe.flow.subsamples import subsample_table
from astropipe.io import write_json
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "flow_resample_gather")
bulkflow = json.loads(Path(snakemake.input.bulkflow).read_text())
realisations = gather([Table.read(p, format="ascii.ecsv") for p in snakemake.input.chunks])
summary = summarise(realisations, np.array(bulkflow["vector_kms"]), np.array(bulkflow["covariance_kms2"]))
settings = FlowSettings.from_config(snakemake.params.analysis)
tables = [Table.read(snakemake.input[n], format="ascii.ecsv") for n in ("clusters", "galaxies", "dispersions")]
summary["subsamples"] = subsample_table(*tables, settings)
summary["error_budget"] = error_budget(
    bulkflow["vector_kms"], bulkflow["covariance_kms2"], summary["run_bootstrap"]["covariance_kms2"]
)
summary["units"] = "km/s; covariances km^2/s^2"
write_json(summary, snakemake.output[0])
budget = summary["error_budget"]
log.info(
    "%d realisations gathered; |V| = %.0f +- %.0f (%.0f random, %.0f run corrections) km/s",
    len(realisations),
    budget["amplitude_kms"],
    budget["amplitude_err_total_kms"],
    budget["amplitude_err_random_kms"],
    budget["amplitude_err_systematic_kms"],
)
