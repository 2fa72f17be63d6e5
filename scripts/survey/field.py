"""Density profile, overdensity, gas/dust indicators and thumbnail of one candidate field (Dutra et al. 2003, §2)."""

import json
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from astropipe.io import atomic_output, write_json
from astropipe.io.rule_log import rule_logger
from astropipe.survey.density import fit_king, overdensity, radial_profile, ring_areas
from astropipe.survey.figures import thumbnail_figure
from astropipe.survey.indicators import light_concentration, nebulosity, star_mask

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "survey_field")
settings = snakemake.params.survey
field = snakemake.wildcards.field
candidates = Table.read(snakemake.input.candidates, format="ascii.ecsv")
row = candidates[candidates["field"] == field]
if len(row) != 1:
    raise ValueError(f"{snakemake.input.candidates}: field {field!r} listed {len(row)} times (expected once)")
image, header = fits.getdata(snakemake.input.stack).astype(float), fits.getheader(snakemake.input.stack)
weight = fits.getdata(snakemake.input.weight).astype(float)
catalog = Table.read(snakemake.input.catalog, format="ascii.ecsv")
calibration = json.loads(Path(snakemake.input.calibration).read_text())["bands"][snakemake.params.band]
wcs = WCS(header).celestial
scale = float(header["PIXSCALE"])
centre = SkyCoord(l=float(row["l"][0]), b=float(row["b"][0]), unit="deg", frame="galactic")
cx, cy = (float(v) for v in wcs.world_to_pixel(centre))
usable = weight >= 0.5 * np.nanmax(weight)

# approximate K: instrumental + the night's zero point and extinction (no colour: one band)
magnitude = np.asarray(catalog["mag_inst"]) + calibration["zero_point_mag"] - calibration["extinction_mag_per_airmass"] * float(
    catalog.meta.get("airmass", 1.0)) + float(catalog.meta.get("aperture_correction_mag", 0.0) or 0.0)  # fmt: skip
good = np.isfinite(magnitude) & ((np.asarray(catalog["flags"]) & 2) == 0)
# depth: the magnitude above which the given fraction of the detections lie (the luminosity function's
# own peak is the bulge red clump in these fields, not the completeness turnover)
limit = float(np.percentile(magnitude[good], settings["count_percentile"]))
x, y = np.asarray(catalog["x"]), np.asarray(catalog["y"])
radius = np.hypot(x - cx, y - cy) * scale
counted = good & (magnitude < limit)
edges_arcsec = np.asarray(settings["ring_edges_arcsec"], float)
areas = ring_areas(usable, (cx, cy), scale, edges_arcsec)
xi = np.clip(np.round(x).astype(int), 0, usable.shape[1] - 1)
yi = np.clip(np.round(y).astype(int), 0, usable.shape[0] - 1)
on_usable = usable[yi, xi]
stars = counted & on_usable
profile = radial_profile(radius[stars], areas, edges_arcsec)
king = fit_king(profile)
ring_lo, ring_hi = settings["background_ring_arcsec"]
bg_area = float(ring_areas(usable, (cx, cy), scale, np.array([ring_lo, ring_hi]))[0])
inner_radius = settings["inner_radius_arcsec"]
inner_area = float(ring_areas(usable, (cx, cy), scale, np.array([0.0, inner_radius]))[0])


def background(selection):
    n = int(np.sum(selection & (radius >= ring_lo) & (radius < ring_hi)))
    return n / bg_area, n


density_bg, n_bg = background(stars)
faint = stars & (magnitude >= settings["bright_mag"])
density_faint, n_faint = background(faint)
all_over = overdensity(radius[stars], inner_area, inner_radius, density_bg, n_bg)
faint_over = overdensity(radius[faint], inner_area, inner_radius, density_faint, n_faint)
bright = good & on_usable & (magnitude < settings["bright_mag"])
density_bright, _ = background(bright)
bright_radius = settings["bright_radius_arcsec"]
bright_area = float(ring_areas(usable, (cx, cy), scale, np.array([0.0, bright_radius]))[0])
bright_excess = float(np.sum(bright & (radius < bright_radius)) - density_bright * bright_area)
hole_lo, hole_hi = settings["hole_ring_arcsec"]
hole_area = float(ring_areas(usable, (cx, cy), scale, np.array([hole_lo, hole_hi]))[0])
ring_ratio = float(np.sum(stars & (radius >= hole_lo) & (radius < hole_hi)) / hole_area / density_bg) if density_bg > 0 else np.nan
fwhm = float(catalog.meta.get("fwhm_px", 3.0))
masked = star_mask(image.shape, x[good], y[good], 3.0 * fwhm) | star_mask(image.shape, x[bright], y[bright], 8.0 * fwhm)
ny, nx = image.shape
pixel_radius = np.hypot(*np.meshgrid(np.arange(nx) - cx, np.arange(ny) - cy)) * scale
nebula_snr, nebula_level = nebulosity(image, usable, masked, pixel_radius, settings["nebula_radius_arcsec"], (ring_lo, ring_hi))
central_flux, light_p = light_concentration(image, usable, (cx, cy), bright_radius / scale,
                                            np.random.default_rng(np.random.SeedSequence([snakemake.params.seed, *map(ord, field)])))  # fmt: skip
ring_expected = density_bg * hole_area
deficit_sigma = float((ring_expected - np.sum(stars & (radius >= hole_lo) & (radius < hole_hi)))
                      / np.sqrt(ring_expected + ring_expected**2 / max(n_bg, 1)))  # fmt: skip
metrics = {
    "field": field, "l": float(row["l"][0]), "b": float(row["b"][0]), "centre_px": [cx, cy],
    "magnitude_limit": limit, "n_stars": int(stars.sum()),
    "background_density_arcmin2": density_bg, "background_stars": n_bg,
    "overdensity_significance": all_over.significance, "overdensity": all_over.as_dict(),
    "faint_overdensity_significance": faint_over.significance, "faint_overdensity": faint_over.as_dict(),
    "bright_excess": bright_excess, "count_ratio_ring": ring_ratio, "count_deficit_sigma": deficit_sigma,
    "central_flux_adu_s": central_flux, "light_concentration_p": light_p,
    "nebulosity_snr": nebula_snr, "nebulosity_adu_s": nebula_level, "king": king.as_dict(),
    "profile": {"inner_arcsec": profile.inner.tolist(), "outer_arcsec": profile.outer.tolist(),
                "density_arcmin2": profile.density.tolist(), "density_err_arcmin2": profile.density_err.tolist()},
}  # fmt: skip
log.info("%s: %d stars to K = %.1f, overdensity %.1f sigma (faint %.1f), bright excess %.1f, light p %.3f, "
         "ring deficit %.1f sigma (ratio %.2f), nebulosity %.2f", field, stars.sum(), limit, all_over.significance,
         faint_over.significance, bright_excess, light_p, deficit_sigma, ring_ratio, nebula_snr)  # fmt: skip
write_json(metrics, snakemake.output.metrics)
with atomic_output(snakemake.output.thumbnail) as path:
    thumbnail_figure(image, (cx, cy), scale, profile, king, f"{field} (l = {metrics['l']:.2f}, b = {metrics['b']:.2f})").savefig(path, dpi=100)
