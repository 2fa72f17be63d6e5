"""Comparison of the calibrated catalogue with the 2MASS-like reference (Dutra et al. 2003, §3.2, Fig. 6)."""

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astropipe.calibrate.figures import reference_comparison_figure
from astropipe.calibrate.reference_comparison import blended_magnitudes, fit_reference_relation
from astropipe.calibrate.saturated import saturated_detections
from astropipe.io import atomic_output, write_json
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_compare_reference")
settings = snakemake.params.reference
catalog = Table.read(snakemake.input.catalog, format="ascii.ecsv")
reference = Table.read(snakemake.input.reference, format="ascii.ecsv")
for column in ("ra", "dec", "H", "e_H", "Ks", "e_Ks"):
    if column not in reference.colnames:
        raise ValueError(f"{snakemake.input.reference}: column {column!r} missing (need ra, dec, H, e_H, Ks, e_Ks)")
# a reference star with a saturated detection of ours within its resolution compares the reference with a
# clipped-core magnitude: such stars are left out of the relation (they are what it is used for, in imaging_cmd)
ours = SkyCoord(catalog["ra"], catalog["dec"], unit="deg")
saturated = saturated_detections(catalog)
near_saturated = np.zeros(len(reference), dtype=bool)
if saturated.any():
    _, separation, _ = SkyCoord(reference["ra"], reference["dec"], unit="deg").match_to_catalog_sky(ours[saturated])
    near_saturated = separation.arcsec < settings["resolution_arcsec"]
log.info("%d reference stars have a saturated detection of ours within %.1f arcsec: not compared",
         int(near_saturated.sum()), settings["resolution_arcsec"])  # fmt: skip
panels, results = [], {}
for band, column, limit in (("H", "H", settings["limit_H"]), ("Ks", "K", settings["limit_Ks"])):
    listed = np.flatnonzero(np.isfinite(np.asarray(reference[band], float)) & ~near_saturated)
    mag, matched = blended_magnitudes(
        SkyCoord(reference["ra"][listed], reference["dec"][listed], unit="deg"),
        ours,
        np.asarray(catalog[column], float),
        settings["resolution_arcsec"],
        settings["match_radius_arcsec"],
    )
    theirs = listed[matched]
    log.info("%s: %d reference stars matched within %.1f arcsec; our fluxes summed within %.1f arcsec", band,
             theirs.size, settings["match_radius_arcsec"], settings["resolution_arcsec"])  # fmt: skip
    ref = np.asarray(reference[band], float)[theirs]
    err = np.asarray(reference[f"e_{band}"], float)[theirs]
    bright = np.isfinite(ref) & (ref < limit)
    fit = fit_reference_relation(mag[bright], ref[bright], err[bright], band, pivot=settings["pivot_mag"],
                                 clip_sigma=settings["clip_sigma"])  # fmt: skip
    log.info("%s: reference - ours = %+.3f +- %.3f at %g mag, slope %+.3f +- %.3f, rms %.3f, %d of %d rejected", band,
             fit.offset_mag, fit.offset_err_mag, fit.pivot_mag, fit.slope, fit.slope_err, fit.rms_mag,
             fit.n_rejected, fit.n_common)  # fmt: skip
    results[band] = fit.as_dict()
    panels.append((mag[bright], ref[bright], fit))
write_json({"field": snakemake.wildcards.field, "reference": snakemake.input.reference,
            "relation": "m_ref - m = offset + slope (m - pivot), 3-sigma clipped", "bands": results},
           snakemake.output.comparison)  # fmt: skip
with atomic_output(snakemake.output.figure) as path:
    reference_comparison_figure(panels).savefig(path, dpi=120)
