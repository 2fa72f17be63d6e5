"""Peculiar velocities of type Ia supernovae (Pantheon+ format) and their bulk flow."""

from astropipe.flow.log_distance import log_distance_flow
from astropipe.flow.supernovae import prepare_supernovae, read_pantheon, supernova_error_model, supernova_flow
from astropipe.io import write_json, write_table
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "flow_supernovae")
config = snakemake.params.selection
table = read_pantheon(snakemake.input.table)
objects = prepare_supernovae(
    table, config["z_min"], config["z_max"], config["exclude_calibrators"], config["h0"], config["omega_m"]
)
model = supernova_error_model(objects, snakemake.params.thermal_kms, fit=config["fit_error_model"])
objects, flow, offset = supernova_flow(objects, model)
summary = flow.summary()
summary.update(
    {
        "n_rows_read": len(table),
        "distance_modulus_offset_mag": offset,
        "units": "km/s, degrees",
        "chi2_per_dof": flow.chi2 / (flow.n_objects - 3),
        "error_model": {
            "fitted": config["fit_error_model"],
            "dispersion_kms": model.dispersion_kms,
            "dispersion_err_kms": model.dispersion_err_kms,
            "error_scale": model.error_scale,
            "error_scale_err": model.error_scale_err,
        },
        "selection": {k: config[k] for k in ("z_min", "z_max", "exclude_calibrators", "h0", "omega_m")},
    }
)
log.info(
    "error model: sigma_v = %.0f +- %.0f km/s, error scale %.3f +- %.3f (%s); chi2/dof %.2f",
    model.dispersion_kms,
    model.dispersion_err_kms,
    model.error_scale,
    model.error_scale_err,
    "fitted" if config["fit_error_model"] else "fixed",
    summary["chi2_per_dof"],
)
summary["log_distance"] = log_distance_flow(objects, config["h0"], config["omega_m"], snakemake.params.thermal_kms)
log.info(
    "log-distance fit: V = %.0f km/s towards l = %.1f, b = %.1f; sigma_v = %.0f km/s, error scale %.3f, chi2/dof %.2f",
    summary["log_distance"]["amplitude_kms"],
    summary["log_distance"]["l_deg"],
    summary["log_distance"]["b_deg"],
    summary["log_distance"]["dispersion_kms"],
    summary["log_distance"]["error_scale"],
    summary["log_distance"]["chi2_per_dof"],
)
write_table(objects, snakemake.output.clusters, format="ascii.ecsv")
write_json(summary, snakemake.output.bulkflow)
log.info(
    "%d of %d rows -> %d supernovae; V = %.0f +- %.0f km/s towards l = %.1f, b = %.1f",
    len(objects),
    len(table),
    len(objects),
    summary["amplitude_kms"],
    summary["amplitude_err_kms"],
    summary["l_deg"],
    summary["b_deg"],
)
