"""The survey's bulk flow in linear LambdaCDM: its expected covariance and the minimum-variance flow."""

import json
from pathlib import Path

from astropy.table import Table

from astropipe.flow.cosmic_variance import CosmicVarianceModel, flow_in_lcdm
from astropipe.flow.minimum_variance import minimum_variance_flow
from astropipe.io import write_json
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "flow_lcdm")
objects = Table.read(snakemake.input.clusters, format="ascii.ecsv")
fit = json.loads(Path(snakemake.input.bulkflow).read_text())
summary = {
    "lcdm": flow_in_lcdm(objects, fit["vector_kms"], fit["covariance_kms2"], snakemake.params.cosmology),
    "units": "km/s; covariances km^2/s^2",
}
if snakemake.params.minimum_variance_radius_kms:
    summary["minimum_variance"] = minimum_variance_flow(
        objects, snakemake.params.minimum_variance_radius_kms, CosmicVarianceModel(snakemake.params.cosmology)
    )
write_json(summary, snakemake.output[0])
log.info(
    "LambdaCDM expects %.0f km/s in this window; the measured flow has p = %.3g",
    summary["lcdm"]["expected_rms_kms"],
    summary["lcdm"]["p"],
)
