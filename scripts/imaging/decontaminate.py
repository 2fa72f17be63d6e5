"""Statistical decontamination of the object CMD by the field CMD (Dutra et al. 2003, §3.3, Fig. 9), and the mixture-model membership."""

import json
from pathlib import Path

import numpy as np
from astropy.table import Table

from astropipe.cmd.artificial_star_response import colour_error_distribution, completeness_model
from astropipe.cmd.decontaminate import decontaminate
from astropipe.cmd.figures import decontamination_figure
from astropipe.cmd.mixture import fit_mixture_membership
from astropipe.distance.tenth_brightest import tenth_brightest
from astropipe.io import atomic_output, write_json, write_table
from astropipe.io.rule_log import rule_logger

K10_BOOTSTRAP_STREAM = 1010  # random stream of the object-star bootstrap, apart from the rings' (seed, ring, repeat)

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_decontaminate")
settings = snakemake.params.decontamination
stars = Table.read(snakemake.input.stars, format="ascii.ecsv")
summary = json.loads(Path(snakemake.input.summary).read_text())
obj = stars[stars["region"] == "object"]
field = stars[stars["region"] == "field"]
repeats = settings["repeats"]
probability = np.zeros(len(obj))
survivors = np.zeros((repeats, len(obj)), dtype=bool)
n_subtracted, n_unmatched = np.zeros(repeats), np.zeros(repeats)
# each ring of the object disc against the field scaled to the ring's area: the cluster's central
# concentration then raises the membership probability where the cluster dominates
for index, ring in enumerate(summary["annuli"]):
    inside = (obj["radius"] >= ring["inner_arcsec"]) & (obj["radius"] < ring["outer_arcsec"])
    result = decontaminate(
        np.asarray(obj["HK"][inside]), np.asarray(obj["H"][inside]), np.asarray(field["HK"]), np.asarray(field["H"]),
        ring["area_ratio"], colour_weight=settings["colour_weight"], max_distance=settings["max_distance_mag"],
        repeats=repeats, seed=(snakemake.params.seed, index), resample_field=settings["resample_field"],
    )  # fmt: skip
    probability[inside], survivors[:, inside] = result.probability, result.survivors
    n_subtracted += result.n_subtracted
    n_unmatched += result.n_unmatched
    log.info("ring %.1f-%.1f arcsec: %d stars, %.1f field stars subtracted per repeat", ring["inner_arcsec"],
             ring["outer_arcsec"], inside.sum(), result.n_subtracted.mean())  # fmt: skip
obj["probability"] = probability
cut = settings["member_probability"]
members = obj["probability"] >= cut
log.info("%d object-area stars; %.0f field stars subtracted per repeat (%.1f unmatched); %d kept with p >= %.2f",
         len(obj), n_subtracted.mean(), n_unmatched.mean(), members.sum(), cut)  # fmt: skip
# the tenth-brightest red-sequence survivor of every repeat (the cluster is redder than the blue/red
# boundary; foreground disc stars the field happened not to remove are not cluster candidates). The object
# stars are bootstrapped too (Poisson multiplicities), so the spread of K10 over the repeats carries the
# sampling noise of both CMDs, not only the field's.
boundary = summary["colour_sequences"]["valleys_mag"][0]
red = np.asarray(obj["HK"]) > boundary
tenth = np.empty(repeats)
for r, alive in enumerate(survivors):
    counts = np.random.default_rng(np.random.SeedSequence([snakemake.params.seed, K10_BOOTSTRAP_STREAM, r])).poisson(1.0, len(obj))
    tenth[r] = tenth_brightest(np.where(alive & red, np.asarray(obj["K"], float), np.nan), counts)
# a truth-free check of the probabilities above the completeness limits: a calibrated membership
# probability would sum to the object area's statistical excess over the area-scaled field
object_above = (obj["K"] < summary["completeness_limit_k_mag"]) & (obj["H"] < summary["completeness_limit_h_mag"])
field_above = (field["K"] < summary["completeness_limit_k_mag"]) & (field["H"] < summary["completeness_limit_h_mag"])
above_limits = {
    "n_object": int(object_above.sum()), "n_field": int(field_above.sum()),
    "statistical_excess": float(object_above.sum() - summary["area_ratio"] * field_above.sum()),
    "statistical_excess_err": float(np.sqrt(object_above.sum() + summary["area_ratio"] ** 2 * field_above.sum())),
    "sum_probability": float(probability[np.asarray(object_above)].sum()),
}  # fmt: skip
log.info("above the completeness limits: %d object stars - %.1f area-scaled field stars = %.1f +- %.1f members; the "
         "probabilities sum to %.1f", above_limits["n_object"], summary["area_ratio"] * above_limits["n_field"],
         above_limits["statistical_excess"], above_limits["statistical_excess_err"], above_limits["sum_probability"])  # fmt: skip
# the extension beside the paper's method: a reddened main sequence + King profile against the field's CMD,
# with the colour errors and the completeness the artificial stars measured
offsets = {band: float(stars.meta[f"instrumental_to_calibrated_{band}_mag"]) for band in ("H", "Ks")}
limit_h, limit_k = summary["completeness_limit_h_mag"], summary["completeness_limit_k_mag"]
colour_errors = colour_error_distribution(
    Table.read(snakemake.input.artificial_h, format="ascii.ecsv"), offsets["H"],
    Table.read(snakemake.input.artificial_k, format="ascii.ecsv"), offsets["Ks"],
    (float(np.min(stars["H"])), limit_h), (float(np.min(stars["K"])), limit_k),
    paths=(snakemake.input.artificial_h, snakemake.input.artificial_k),
)  # fmt: skip
completeness = completeness_model(Table.read(snakemake.input.completeness_h, format="ascii.ecsv"), offsets["H"],
                                  Table.read(snakemake.input.completeness_k, format="ascii.ecsv"), offsets["Ks"])  # fmt: skip
near_limit = np.asarray(object_above & (obj["H"] > limit_h - 1.0))
near_limit = near_limit if near_limit.any() else np.asarray(object_above)
errors_near_limit = {
    "h_mag": limit_h - 0.5, "k_mag": limit_h - 0.5 - float(np.median(obj["HK"][near_limit])),
    "formal_median_mag": float(np.median(obj["e_HK"][near_limit])),
}
errors_near_limit["artificial_68_halfwidth_mag"] = colour_errors.halfwidth_68(errors_near_limit["h_mag"], errors_near_limit["k_mag"])
log.info("H - K error at H = %.2f, K = %.2f: artificial stars +- %.3f mag (16-84 %%), median formal error %.3f mag",
         errors_near_limit["h_mag"], errors_near_limit["k_mag"], errors_near_limit["artificial_68_halfwidth_mag"],
         errors_near_limit["formal_median_mag"])  # fmt: skip
mixture = fit_mixture_membership(
    np.asarray(obj["H"], float), np.asarray(obj["HK"], float), np.asarray(obj["radius"], float),
    np.asarray(field["H"], float), np.asarray(field["HK"], float), limit_h, limit_k, summary["object_radius_arcsec"],
    colour_errors.at, completeness,
)  # fmt: skip
obj["mixture_probability"] = mixture.probability
if settings["mixture_operating_point"] == "balanced":
    mixture_threshold = mixture.threshold_balanced()
else:
    mixture_threshold = mixture.threshold_for_completeness(settings["mixture_completeness"])
n_mixture_kept = int(np.sum(mixture.probability >= mixture_threshold))
expected_completeness, expected_removal = mixture.expected_rates(mixture_threshold)
log.info("mixture model: %.1f +- %.1f members above the limits, H - K = %.3f +- %.3f (uniform), LF slope %.3f, core %.1f "
         "arcsec; %d stars with p >= %.3f (%s): expected completeness %.0f%%, field removal %.0f%%", mixture.n_members, mixture.n_members_err,
         mixture.colour_centre, mixture.colour_halfwidth, mixture.lf_slope, mixture.core_radius, n_mixture_kept,
         mixture_threshold, settings["mixture_operating_point"], 100 * expected_completeness, 100 * expected_removal)  # fmt: skip
obj.meta.update({"member_probability": cut, "repeats": settings["repeats"], "mixture_threshold": mixture_threshold})
write_table(obj, snakemake.output.membership, format="ascii.ecsv")
write_json({
    "field": snakemake.wildcards.field, "method": "Zoccali et al. (2003): d = sqrt([k d(H-K)]^2 + dH^2)",
    "colour_weight": settings["colour_weight"], "max_distance_mag": settings["max_distance_mag"],
    "repeats": settings["repeats"], "area_ratio": summary["area_ratio"],
    "n_object": len(obj), "n_field": len(field),
    "annuli": summary["annuli"], "resample_field": settings["resample_field"],
    "n_subtracted_mean": float(n_subtracted.mean()), "n_unmatched_mean": float(n_unmatched.mean()),
    "n_members": int(members.sum()), "member_probability": cut, "above_completeness_limits": above_limits,
    "mixture": mixture.as_dict() | {"operating_point": settings["mixture_operating_point"],
                                    "threshold": mixture_threshold, "n_kept": n_mixture_kept,
                                    "expected_completeness": expected_completeness,
                                    "expected_field_removal": expected_removal,
                                    "colour_errors_near_h_limit": errors_near_limit},
    "red_sequence_boundary_hk": boundary, "k10_per_repeat_median_mag": float(np.nanmedian(tenth)), "k10_per_repeat_std_mag": float(np.nanstd(tenth)),
    "k10_per_repeat": [float(v) for v in tenth],
}, snakemake.output.summary)  # fmt: skip
with atomic_output(snakemake.output.figure) as path:
    decontamination_figure(obj, field, cut).savefig(path, dpi=110)
