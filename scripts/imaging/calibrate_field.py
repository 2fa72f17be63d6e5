"""Calibrated H, K catalogue of one field: aperture corrections, extinction, band match, colour system."""

import json
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astropipe.calibrate.crossmatch import mutual_nearest
from astropipe.calibrate.photometric_system import BandCalibration, normalised_instrumental, solve_colour_system
from astropipe.io import write_table
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_calibrate")
calibration = json.loads(Path(snakemake.input.calibration).read_text())
settings = snakemake.params.calibration
catalogs, normalised = {}, {}
for band, path in (("H", snakemake.input.catalog_h), ("Ks", snakemake.input.catalog_k)):
    catalog = Table.read(path, format="ascii.ecsv")
    if band not in calibration["bands"]:
        raise ValueError(f"{snakemake.input.calibration}: no transformation for band {band} (have {sorted(calibration['bands'])})")
    if band in settings["aperture_corrections"]:
        correction, correction_err = float(settings["aperture_corrections"][band]), 0.0
        log.info("%s: fixed aperture correction %.3f mag (imaging.calibration.aperture_corrections)", band, correction)
    else:
        correction = float(catalog.meta.get("aperture_correction_mag", np.nan))
        correction_err = float(catalog.meta.get("aperture_correction_err_mag", np.nan))
        if not (np.isfinite(correction) and correction_err <= settings["max_aperture_correction_err_mag"]):
            raise ValueError(
                f"{path}: aperture correction {correction:.3f} +- {correction_err:.3f} mag (meta aperture_correction_mag) "
                f"is missing or less certain than imaging.calibration.max_aperture_correction_err_mag = "
                f"{settings['max_aperture_correction_err_mag']}; too few bright isolated stars? Set "
                f"imaging.calibration.aperture_corrections.{band} to a value measured elsewhere"
            )
    airmass = float(catalog.meta.get("airmass", np.nan))
    if not np.isfinite(airmass):
        raise ValueError(f"{path}: no airmass in the catalogue metadata")
    band_cal = BandCalibration.from_json(calibration["bands"][band])
    normalised[band] = normalised_instrumental(catalog["mag_inst"], correction, airmass, band_cal.extinction)
    catalogs[band] = (catalog, band_cal, correction, correction_err)
(cat_h, cal_h, apc_h, apc_err_h), (cat_k, cal_k, apc_k, apc_err_k) = catalogs["H"], catalogs["Ks"]
good_h = np.isfinite(normalised["H"])
good_k = np.isfinite(normalised["Ks"])
index_h, index_k, separation = mutual_nearest(
    SkyCoord(cat_h["ra"][good_h], cat_h["dec"][good_h], unit="deg"),
    SkyCoord(cat_k["ra"][good_k], cat_k["dec"][good_k], unit="deg"),
    settings["band_match_radius_arcsec"],
)
index_h, index_k = np.flatnonzero(good_h)[index_h], np.flatnonzero(good_k)[index_k]
log.info("matched %d stars in H and Ks (of %d and %d) within %.2f arcsec", index_h.size, len(cat_h), len(cat_k),
         settings["band_match_radius_arcsec"])  # fmt: skip
# the aperture corrections' errors are common to all stars: calibration errors, not random ones
cal_h = BandCalibration(cal_h.colour_term, cal_h.zero_point, cal_h.covariance, cal_h.extinction, float(np.hypot(cal_h.systematic_err, apc_err_h)))
cal_k = BandCalibration(cal_k.colour_term, cal_k.zero_point, cal_k.covariance, cal_k.extinction, float(np.hypot(cal_k.systematic_err, apc_err_k)))
solved = solve_colour_system(normalised["H"][index_h], np.asarray(cat_h["mag_inst_err"])[index_h],
                             normalised["Ks"][index_k], np.asarray(cat_k["mag_inst_err"])[index_k], cal_h, cal_k)  # fmt: skip
out = Table()
out["id"] = np.arange(1, index_h.size + 1)
out["ra"] = np.asarray(cat_k["ra"])[index_k]
out["dec"] = np.asarray(cat_k["dec"])[index_k]
out["x_ks"], out["y_ks"] = np.asarray(cat_k["x"])[index_k], np.asarray(cat_k["y"])[index_k]
for name in ("H", "e_H", "K", "e_K", "HK", "e_HK", "e_H_cal", "e_K_cal", "e_HK_cal"):
    out[name] = solved[name]
    out[name].unit = "mag"
out["ra"].unit = out["dec"].unit = "deg"
out["flags_h"] = np.asarray(cat_h["flags"])[index_h]
out["flags_ks"] = np.asarray(cat_k["flags"])[index_k]
out["separation"] = separation
out["separation"].unit = "arcsec"
out["HK"].description = "H - K from the colour-term system solved exactly (Dutra et al. 2003, eqs. 2-3)"
out["e_H_cal"].description = "calibration error (zero point, colour term, standards rms, aperture correction), common to all stars"
out["K"].description = "K (Persson/LCO system) from the Ks stack; e_K_cal includes the 0.02 mag Ks -> K term"
out.meta.update({"field": snakemake.wildcards.field, "night": snakemake.wildcards.night,
                 "aperture_correction_H_mag": apc_h, "aperture_correction_Ks_mag": apc_k,
                 "n_h": len(cat_h), "n_ks": len(cat_k), "n_matched": int(index_h.size),
                 "band_match_radius_arcsec": settings["band_match_radius_arcsec"],
                 "stack_ks": snakemake.input.catalog_k,
                 # median calibrated - instrumental magnitude: maps the artificial-star completeness
                 # (instrumental magnitudes) onto the calibrated scale
                 "instrumental_to_calibrated_H_mag": float(np.nanmedian(solved["H"] - np.asarray(cat_h["mag_inst"])[index_h])),
                 "instrumental_to_calibrated_Ks_mag": float(np.nanmedian(solved["K"] - np.asarray(cat_k["mag_inst"])[index_k]))})  # fmt: skip
write_table(out, snakemake.output.catalog, format="ascii.ecsv")
