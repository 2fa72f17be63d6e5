"""FP distances, peculiar velocities and the bulk-flow fit of one survey."""

from astropy.table import Table

from astropipe.flow.peculiar import FlowSettings, analyse_survey
from astropipe.io import write_json, write_table
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "flow_fit")
settings = FlowSettings.from_config(snakemake.params.analysis)
tables = [Table.read(snakemake.input[name], format="ascii.ecsv") for name in ("clusters", "galaxies", "dispersions")]
result = analyse_survey(*tables, settings)
summary = result.flow.summary()
summary.update(
    {
        "fp_slope_theta": result.fp.slope_theta,
        "fp_slope_mu": result.fp.slope_mu,
        "fp_rms_dex": result.fp.rms_dex,
        "galaxy_distance_error": result.fp.galaxy_distance_error(),
        "run_offsets_dex": result.offsets.tolist(),
        "units": "km/s, degrees",
    }
)
write_table(result.clusters, snakemake.output.clusters, format="ascii.ecsv")
write_json(summary, snakemake.output.bulkflow)
log.info(
    "V = %.0f +- %.0f km/s towards l = %.1f, b = %.1f",
    summary["amplitude_kms"],
    summary["amplitude_err_kms"],
    summary["l_deg"],
    summary["b_deg"],
)
