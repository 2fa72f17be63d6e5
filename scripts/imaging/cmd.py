"""CMD analysis of one field: regions and areas, colour sequences, luminosity functions (Dutra et al. 2003, Figs. 7-8)."""

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table, vstack
from astropy.wcs import WCS

from astropipe.calibrate.saturated import saturated_detections, substitute_saturated
from astropipe.cmd.artificial_star_response import completeness_at
from astropipe.cmd.figures import cmd_figure, luminosity_figure
from astropipe.cmd.luminosity import completeness_weights, field_subtracted, histogram
from astropipe.cmd.regions import define_regions, usable_mask
from astropipe.cmd.sequences import locate_sequences
from astropipe.io import atomic_output, write_json, write_table
from astropipe.io.rule_log import rule_logger
from astropipe.photometry.artificial_stars import completeness_limit
from astropipe.photometry.pipeline import FLAG_EDGE, FLAG_POOR_FIT, FLAG_SATURATED

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_cmd")
settings = snakemake.params.cmd
catalog = Table.read(snakemake.input.catalog, format="ascii.ecsv")
header_k = fits.getheader(snakemake.input.weight_k)
wcs_k, wcs_h = WCS(header_k).celestial, WCS(fits.getheader(snakemake.input.weight_h)).celestial
usable = usable_mask(fits.getdata(snakemake.input.weight_k).astype(float), fits.getdata(snakemake.input.weight_h).astype(float),
                     wcs_k, wcs_h, settings["min_coverage"])  # fmt: skip
centre = SkyCoord(l=snakemake.params.centre[0], b=snakemake.params.centre[1], unit="deg", frame="galactic")
regions = define_regions(usable, wcs_k, centre, float(header_k["PIXSCALE"]), settings["object_radius_arcsec"],
                         settings["field_inner_radius_arcsec"])  # fmt: skip
area_object, area_field = regions.areas_arcmin2()
log.info("usable areas: object %.3f arcmin^2, field %.3f arcmin^2", area_object, area_field)

# Saturated stars: their PSF magnitudes are not even bounds (clipped cores, flux from the wings through the
# ePSF). Left out, they would make the object and field CMDs incomplete differently at the bright end (the
# nebula saturates stars fainter in the object area), so they are taken from the 2MASS-like reference,
# transformed to our system with the Fig. 6 relation (astropipe.calibrate.saturated).
saturated = saturated_detections(catalog)
catalog["source"] = np.full(len(catalog), "psf", dtype="<U9")
n_replaced = 0
if settings["saturated_from_reference"]:
    comparison = json.loads(Path(snakemake.input.comparison).read_text())["bands"]
    substitution = substitute_saturated(catalog, saturated, Table.read(snakemake.input.reference, format="ascii.ecsv"),
                                        comparison, snakemake.params.reference["resolution_arcsec"])  # fmt: skip
    substitutes = substitution.stars
    substitutes["x_ks"], substitutes["y_ks"] = wcs_k.world_to_pixel_values(substitutes["ra"], substitutes["dec"])
    substitutes["id"] = np.max(catalog["id"], initial=0) + 1 + np.arange(len(substitutes))
    substitutes["separation"] = 0.0
    substitutes["source"] = "reference"
    n_replaced = int(substitution.replaced.sum())
    log.info("%d saturated detections replaced by %d reference stars", n_replaced, len(substitutes))
    catalog = vstack([catalog[~substitution.replaced], substitutes[catalog.colnames]], metadata_conflicts="silent")
    saturated = saturated_detections(catalog)
flags = np.asarray(catalog["flags_h"]) | np.asarray(catalog["flags_ks"])
bad = (flags & (FLAG_SATURATED | FLAG_EDGE | FLAG_POOR_FIT)) > 0
good = ~bad & (np.asarray(catalog["e_HK"]) < settings["max_error_mag"]) & np.isfinite(catalog["HK"])
in_object_saturated = saturated & regions.in_object(np.asarray(catalog["x_ks"]), np.asarray(catalog["y_ks"]))
saturated_k_object = np.sort(np.asarray(catalog["K"])[in_object_saturated])
log.info("%d saturated detections left out (%d in the object area, K = %s)", int(saturated.sum()),
         saturated_k_object.size, ", ".join(f"{k:.1f}" for k in saturated_k_object[:10]))  # fmt: skip
stars = catalog[good]
x, y = np.asarray(stars["x_ks"]), np.asarray(stars["y_ks"])
region = np.full(len(stars), "other", dtype="<U6")
region[regions.in_object(x, y)] = "object"
region[regions.in_field(x, y)] = "field"
stars["region"] = region
stars["radius"] = regions.radius_arcsec(x, y)
stars["radius"].unit = "arcsec"

completeness = {band: Table.read(path, format="ascii.ecsv") for band, path in
                (("H", snakemake.input.completeness_h), ("Ks", snakemake.input.completeness_k))}  # fmt: skip
offsets = {band: float(catalog.meta[f"instrumental_to_calibrated_{band}_mag"]) for band in ("H", "Ks")}
stars["completeness_h"] = completeness_at(completeness["H"], stars["H"], offsets["H"])
stars["completeness_k"] = completeness_at(completeness["Ks"], stars["K"], offsets["Ks"])
from_reference = stars["source"] == "reference"  # complete: the reference survey does not saturate there
stars["completeness_h"][from_reference] = stars["completeness_k"][from_reference] = 1.0
level = settings["completeness_level"]
limits = {ours: completeness_limit(completeness[band], level) + offsets[band] for ours, band in (("H", "H"), ("K", "Ks"))}
for band, path in (("H", snakemake.input.completeness_h), ("K", snakemake.input.completeness_k)):
    if not np.isfinite(limits[band]):
        raise ValueError(f"{path}: the completeness never falls below imaging.cmd.completeness_level = {level}; "
                         "the artificial stars must reach fainter (imaging.photometry.artificial_stars)")  # fmt: skip
stars["in_sequences"] = (stars["H"] < limits["H"]) & (stars["K"] < limits["K"]) & (stars["region"] != "other")
log.info("completeness %.0f %% limits: H = %.2f, K = %.2f", 100 * level, limits["H"], limits["K"])
sequences = locate_sequences(np.asarray(stars["HK"][stars["in_sequences"]]), seed=snakemake.params.seed)
log.info("colour sequences (medians) at H - K = %s", ", ".join(f"{m:.3f} +- {e:.3f}" for m, e in zip(sequences.medians, sequences.medians_err, strict=True)))

scale = area_object / area_field
edges = np.linspace(0.0, settings["object_radius_arcsec"], settings["annuli"] + 1)
weights = completeness_weights(stars["completeness_h"], stars["completeness_k"], level)
k_bins = np.arange(np.floor(np.nanmin(stars["K"])), np.ceil(limits["K"]) + 1.0 + 1e-9, settings["magnitude_bin_mag"])
lf = Table({"k_lo": k_bins[:-1], "k_hi": k_bins[1:]})
intervals = {"blue": tuple(settings["blue_interval"]), "red": tuple(settings["red_interval"])}
for name, (lo, hi) in intervals.items():
    in_colour = (stars["HK"] > lo) & (stars["HK"] < hi)
    for where, factor in (("object", 1.0), ("field", scale)):
        chosen = in_colour & (stars["region"] == where)
        lf[f"{name}_{where}"], lf[f"{name}_{where}_err"] = histogram(stars["K"][chosen], k_bins, scale=factor)
        lf[f"{name}_{where}_corrected"], lf[f"{name}_{where}_corrected_err"] = histogram(
            stars["K"][chosen], k_bins, weights[chosen], scale=factor)
    lf[f"{name}_subtracted"], lf[f"{name}_subtracted_err"] = field_subtracted(
        lf[f"{name}_object"], lf[f"{name}_object_err"], lf[f"{name}_field"], lf[f"{name}_field_err"])
    lf[f"{name}_subtracted_corrected"], lf[f"{name}_subtracted_corrected_err"] = field_subtracted(
        lf[f"{name}_object_corrected"], lf[f"{name}_object_corrected_err"],
        lf[f"{name}_field_corrected"], lf[f"{name}_field_corrected_err"])  # fmt: skip
lf.meta["description"] = "K histograms per colour interval; field counts scaled to the object area"
stars.meta.update({"area_object_arcmin2": area_object, "area_field_arcmin2": area_field})
write_table(stars, snakemake.output.stars, format="ascii.ecsv")
write_table(lf, snakemake.output.luminosity, format="ascii.ecsv")
write_json({
    "field": snakemake.wildcards.field,
    "centre": {"l_deg": snakemake.params.centre[0], "b_deg": snakemake.params.centre[1],
               "x_px": regions.centre_x, "y_px": regions.centre_y},
    "object_radius_arcsec": settings["object_radius_arcsec"], "field_inner_radius_arcsec": settings["field_inner_radius_arcsec"],
    "area_object_arcmin2": area_object, "area_field_arcmin2": area_field, "area_ratio": scale,
    "annuli": [{"inner_arcsec": float(lo), "outer_arcsec": float(hi), "area_arcmin2": regions.area_arcmin2(lo, hi),
                "area_ratio": regions.area_arcmin2(lo, hi) / area_field} for lo, hi in pairwise(edges)],
    "n_object": int(np.sum(stars["region"] == "object")), "n_field": int(np.sum(stars["region"] == "field")),
    "n_rejected_quality": int((~good).sum()), "n_rejected_saturated": int(saturated.sum()),
    "saturated_from_reference": settings["saturated_from_reference"], "n_saturated_replaced": n_replaced,
    "n_from_reference": int(np.sum(catalog["source"] == "reference")),
    "saturated_object_k_mag": saturated_k_object.tolist(),
    "completeness_level": level, "completeness_limit_h_mag": limits["H"], "completeness_limit_k_mag": limits["K"],
    "colour_sequences": sequences.as_dict(),
    "colour_intervals": intervals,
}, snakemake.output.summary)  # fmt: skip
bins = np.arange(-0.5, 3.0 + 1e-9, settings["colour_bin_mag"])
with atomic_output(snakemake.output.fig_cmd) as path:
    cmd_figure(stars, sequences, bins).savefig(path, dpi=110)
with atomic_output(snakemake.output.fig_lf) as path:
    luminosity_figure(lf, intervals).savefig(path, dpi=110)
