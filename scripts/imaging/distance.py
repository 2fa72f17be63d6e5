"""Foreground and cluster reddening, tenth-brightest-star distances and the MS overlay (Dutra et al. 2003 §3.3, Fig. 10)."""

import json
from pathlib import Path

import numpy as np
from astropy.table import Table

from astropipe.cmd.figures import main_sequence_figure
from astropipe.distance.reddening import clump_reddening, cluster_reddening, extinction_k
from astropipe.distance.tenth_brightest import tenth_star_distance
from astropipe.io import atomic_output, write_json, write_table
from astropipe.io.report_tables import distance_table
from astropipe.io.rule_log import rule_logger
from astropipe.stellar.main_sequence import DWARF_MASSES, UpperMainSequence

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_distance")
settings, law = snakemake.params.distance, snakemake.params.law
stars = Table.read(snakemake.input.stars, format="ascii.ecsv")
obj = Table.read(snakemake.input.membership, format="ascii.ecsv")
cmd = json.loads(Path(snakemake.input.cmd_summary).read_text())
decontamination = json.loads(Path(snakemake.input.decontamination).read_text())
boundary = decontamination["red_sequence_boundary_hk"]  # blue/red sequence boundary

clump = settings["clump_reference"]
field = stars[stars["region"] == "field"]
foreground = clump_reddening(np.asarray(field["K"]), np.asarray(field["HK"]), clump["k0"], clump["hk0"], clump["hk"],
                             law, min_colour=boundary, half_width=clump["search_half_width_mag"])  # fmt: skip
log.info("bulge clump at K = %.2f, H - K = %.3f +- %.3f: foreground E(H-K) = %.3f, A_K = %.3f", foreground.clump_k,
         foreground.clump_hk, foreground.clump_hk_err, foreground.e_hk, foreground.a_k)  # fmt: skip

members = obj[obj["probability"] >= obj.meta["member_probability"]]
k10_values = np.asarray(decontamination["k10_per_repeat"], float)
k10 = float(np.nanmedian(k10_values))
tenth_star = members[np.argsort(members["K"])][9] if len(members) >= 10 else None
if tenth_star is None or not np.isfinite(k10):
    raise ValueError(f"{snakemake.input.membership}: fewer than ten decontaminated members; no tenth-brightest star")
k10_err = float(np.hypot(np.nanstd(k10_values), tenth_star["e_K"]))
upper = members[(members["K"] <= k10 + settings["upper_ms_depth_mag"]) & (members["HK"] > boundary)]
cluster = cluster_reddening(np.asarray(upper["HK"]), np.asarray(upper["e_HK"]), settings["upper_ms_intrinsic_hk"])
colour_cal_err = float(np.median(upper["e_HK_cal"]))
e_hk_err = float(np.hypot(cluster.e_hk_err, colour_cal_err))
a_k, a_k_err = extinction_k(cluster.e_hk, law), law * e_hk_err
log.info("upper MS: %d stars, median H - K = %.3f -> E(H-K) = %.3f +- %.3f, spread %.3f (half-width %.3f)",
         cluster.n_stars, cluster.mean_hk, cluster.e_hk, e_hk_err, cluster.e_hk_spread, cluster.e_hk_halfwidth)  # fmt: skip
distances = {}
for name, hypothesis in settings["hypotheses"].items():
    distances[name] = tenth_star_distance(k10, k10_err, a_k, a_k_err, law * cluster.e_hk_halfwidth, hypothesis["absolute_k"])
    log.info("%s: d = %.2f +- %.2f kpc", name, distances[name]["value"], distances[name]["err"])
summary = {
    "field": snakemake.wildcards.field, "night": snakemake.wildcards.night,
    "k10": k10, "k10_err": k10_err,
    "e_hk": cluster.e_hk, "e_hk_err": e_hk_err, "e_hk_spread": cluster.e_hk_spread,
    "e_hk_halfwidth": cluster.e_hk_halfwidth, "upper_ms_mean_hk": cluster.mean_hk, "upper_ms_n_stars": cluster.n_stars,
    "a_k": a_k, "a_k_err": a_k_err, "a_v": a_k * settings["av_per_ak"], "a_v_err": a_k_err * settings["av_per_ak"],
    "extinction_law_ak_per_ehk": law, "av_per_ak": settings["av_per_ak"],
    "foreground": foreground.as_dict() | {"a_v": foreground.a_k * settings["av_per_ak"]},
    "distance_kpc": distances,
    "colour_sequences_hk": [{"median": c["median_mag"], "median_err": c["median_err_mag"], "peak": c["peak_mag"],
                             "peak_err": c["peak_err_mag"]} for c in cmd["colour_sequences"]["components"]],
    "completeness_limit_k_mag": cmd["completeness_limit_k_mag"],
    "n_members": len(members),
    # saturated stars are not in the CMD: if some in the object area are brighter than K10 and members,
    # the true K10 is brighter than the one measured
    "n_saturated_object_brighter_than_k10": int(np.sum(np.asarray(cmd["saturated_object_k_mag"]) < k10)),
    "units": "magnitudes in mag, distances in kpc",
}  # fmt: skip
write_json(summary, snakemake.output.summary)
write_table(distance_table(summary), snakemake.output.table, format="ascii.csv")

# Fig. 10: the reddened main sequence of the preferred hypothesis
preferred = settings["overlay_hypothesis"] if settings["overlay_hypothesis"] in distances else next(iter(distances))
sequence_model = UpperMainSequence(Path(snakemake.input.dwarfs).parent)
masses = np.geomspace(1.6, 60.0, 200)
absolute, intrinsic = sequence_model.photometry(masses)
modulus = distances[preferred]["distance_modulus"]
sequence = Table({"K": absolute + modulus + a_k, "HK": intrinsic + cluster.e_hk, "label": [""] * masses.size})
for label in ("O5V", "B0V", "B2V", "B5V", "A0V", "F0V"):
    k_abs, hk0 = sequence_model.photometry(np.array([DWARF_MASSES[label]]))
    sequence.add_row({"K": k_abs[0] + modulus + a_k, "HK": hk0[0] + cluster.e_hk, "label": label})
with atomic_output(snakemake.output.figure) as path:
    main_sequence_figure(obj, obj.meta["member_probability"], sequence, summary, preferred).savefig(path, dpi=110)
