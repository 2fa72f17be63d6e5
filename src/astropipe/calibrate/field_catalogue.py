"""The calibrated H, K catalogue of one field (Dutra et al. 2003, §3.1, eqs. 2-3).

:func:`calibrated_catalogue` takes the H and Ks PSF catalogues of a field and the night's transformation:

1. each band's instrumental magnitudes are corrected to the standards' aperture (the catalogue's measured
   aperture correction, or a fixed one from the configuration) and for the extinction at the catalogue's
   airmass (:func:`astropipe.calibrate.photometric_system.normalised_instrumental`);
2. the two bands are matched star by star (mutual nearest neighbours on the sky);
3. the colour-term system of eqs. 2-3 is solved exactly for H, K and H - K, the aperture corrections'
   errors added to the calibration errors (common to all stars, not random ones).
"""

from __future__ import annotations

import logging

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astropipe.calibrate.crossmatch import mutual_nearest
from astropipe.calibrate.photometric_system import BandCalibration, normalised_instrumental, solve_colour_system

__all__ = ["aperture_correction", "calibrated_catalogue"]

BANDS = ("H", "Ks")


def aperture_correction(
    catalog: Table,
    band: str,
    settings: dict,
    path: str,
    log: logging.Logger,
    *,
    standards: dict,
    standards_path: str = "calibration.json",
) -> tuple[float, float]:
    """The aperture correction of one band and its error (mag): fixed in ``settings``, or the catalogue's
    extrapolated one plus the standards' halo term.

    The field's correction (``meta`` ``aperture_correction_mag``) extrapolates a Moffat curve of growth from
    3 FWHM; the light beyond it in the standards' aperture, measured on the night's standard stars
    (``standards``: the band's entry of ``calibration.json``, its ``halo_term_mag``), is added, the errors in
    quadrature. A correction that is missing or less certain than ``max_aperture_correction_err_mag`` is an
    error naming the file and the key that can fix it.
    """
    if band in settings["aperture_corrections"]:
        correction = float(settings["aperture_corrections"][band])
        log.info("%s: fixed aperture correction %.3f mag (imaging.calibration.aperture_corrections)", band, correction)
        return correction, 0.0
    field = float(catalog.meta.get("aperture_correction_mag", np.nan))
    field_err = float(catalog.meta.get("aperture_correction_err_mag", np.nan))
    halo = float(standards.get("halo_term_mag", np.nan))
    halo_err = float(standards.get("halo_term_err_mag", np.nan))
    correction, correction_err = field + halo, float(np.hypot(field_err, halo_err))
    limit = settings["max_aperture_correction_err_mag"]
    if not (np.isfinite(field) and field_err <= limit):
        raise ValueError(
            f"{path}: aperture correction {field:.3f} +- {field_err:.3f} mag (meta aperture_correction_mag) "
            f"is missing or less certain than imaging.calibration.max_aperture_correction_err_mag = "
            f"{limit}; too few bright isolated stars? Set "
            f"imaging.calibration.aperture_corrections.{band} to a value measured elsewhere"
        )
    if not (np.isfinite(halo) and correction_err <= limit):
        raise ValueError(
            f"{path}: the standards' halo term {halo:.3f} +- {halo_err:.3f} mag ({standards_path}, bands.{band}."
            f"halo_term_mag, from {standards.get('halo_term_frames', 0)} standard frames) is missing or "
            f"makes the aperture correction less certain than imaging.calibration.max_aperture_correction_err_mag "
            f"= {limit}; set imaging.calibration.aperture_corrections.{band} to a value measured elsewhere"
        )
    log.info(
        "%s: aperture correction %.4f +- %.4f mag (field %.4f +- %.4f, standards' halo term %.4f +- %.4f)",
        band,
        correction,
        correction_err,
        field,
        field_err,
        halo,
        halo_err,
    )
    return correction, correction_err


def _normalised(
    catalog: Table, band: str, calibration: dict, settings: dict, path: str, calibration_path: str, log: logging.Logger
) -> tuple[np.ndarray, BandCalibration, float, float]:
    """Step 1 for one band: normalised instrumental magnitudes, its transformation and aperture correction."""
    if band not in calibration["bands"]:
        raise ValueError(f"{calibration_path}: no transformation for band {band} (have {sorted(calibration['bands'])})")
    correction, correction_err = aperture_correction(
        catalog, band, settings, path, log, standards=calibration["bands"][band], standards_path=calibration_path
    )
    airmass = float(catalog.meta.get("airmass", np.nan))
    if not np.isfinite(airmass):
        raise ValueError(f"{path}: no airmass in the catalogue metadata")
    band_cal = BandCalibration.from_json(calibration["bands"][band])
    return (
        normalised_instrumental(catalog["mag_inst"], correction, airmass, band_cal.extinction),
        band_cal,
        correction,
        correction_err,
    )


def _with_aperture_error(cal: BandCalibration, correction_err: float) -> BandCalibration:
    return BandCalibration(
        cal.colour_term,
        cal.zero_point,
        cal.covariance,
        cal.extinction,
        float(np.hypot(cal.systematic_err, correction_err)),
    )


def calibrated_catalogue(
    catalogs: dict[str, Table],
    calibration: dict,
    settings: dict,
    *,
    paths: dict[str, str],
    calibration_path: str = "calibration",
    log: logging.Logger | None = None,
) -> Table:
    """Steps 1-3 of the module.

    Parameters
    ----------
    catalogs : dict
        PSF catalogues by band ``"H"``, ``"Ks"`` (``ra``, ``dec``, ``x``, ``y``, ``mag_inst``, ``mag_inst_err``,
        ``flags``; ``meta`` ``airmass`` and the measured ``aperture_correction_mag``/``_err_mag``).
    calibration : dict
        The night's ``calibration.json`` (``bands``: the transformation of each band).
    settings : dict
        ``imaging.calibration`` (``aperture_corrections``, ``max_aperture_correction_err_mag``,
        ``band_match_radius_arcsec``).
    paths : dict
        The catalogues' paths by band (error messages, ``meta`` ``stack_ks``).
    calibration_path : str
        The transformation's path (error messages).
    log : logging.Logger, optional

    Returns
    -------
    astropy.table.Table
        One row per star measured in both bands: ``id``, ``ra``, ``dec``, ``x_ks``, ``y_ks``, ``H``, ``K``,
        ``HK`` and their errors, calibration errors ``e_*_cal``, ``flags_h``, ``flags_ks``, ``separation``.
    """
    log = log or logging.getLogger(__name__)
    normalised = {
        band: _normalised(catalogs[band], band, calibration, settings, paths[band], calibration_path, log)
        for band in BANDS
    }
    (norm_h, cal_h, apc_h, apc_err_h), (norm_k, cal_k, apc_k, apc_err_k) = normalised["H"], normalised["Ks"]
    cat_h, cat_k = catalogs["H"], catalogs["Ks"]
    good_h, good_k = np.isfinite(norm_h), np.isfinite(norm_k)
    index_h, index_k, separation = mutual_nearest(
        SkyCoord(cat_h["ra"][good_h], cat_h["dec"][good_h], unit="deg"),
        SkyCoord(cat_k["ra"][good_k], cat_k["dec"][good_k], unit="deg"),
        settings["band_match_radius_arcsec"],
    )
    index_h, index_k = np.flatnonzero(good_h)[index_h], np.flatnonzero(good_k)[index_k]
    log.info(
        "matched %d stars in H and Ks (of %d and %d) within %.2f arcsec",
        index_h.size,
        len(cat_h),
        len(cat_k),
        settings["band_match_radius_arcsec"],
    )
    solved = solve_colour_system(
        norm_h[index_h],
        np.asarray(cat_h["mag_inst_err"])[index_h],
        norm_k[index_k],
        np.asarray(cat_k["mag_inst_err"])[index_k],
        _with_aperture_error(cal_h, apc_err_h),
        _with_aperture_error(cal_k, apc_err_k),
    )
    out = _catalogue_table(solved, cat_h[index_h], cat_k[index_k], separation)
    out.meta.update(
        {
            "aperture_correction_H_mag": apc_h,
            "aperture_correction_Ks_mag": apc_k,
            "n_h": len(cat_h),
            "n_ks": len(cat_k),
            "n_matched": int(index_h.size),
            "band_match_radius_arcsec": settings["band_match_radius_arcsec"],
            "stack_ks": paths["Ks"],
            # median calibrated - instrumental magnitude: maps the artificial-star completeness
            # (instrumental magnitudes) onto the calibrated scale
            "instrumental_to_calibrated_H_mag": float(
                np.nanmedian(solved["H"] - np.asarray(cat_h["mag_inst"])[index_h])
            ),
            "instrumental_to_calibrated_Ks_mag": float(
                np.nanmedian(solved["K"] - np.asarray(cat_k["mag_inst"])[index_k])
            ),
        }
    )
    return out


CALIBRATION_ERROR = (
    "calibration error (zero point, colour term, standards rms, aperture correction), common to all stars"
)


def _catalogue_table(solved: dict, matched_h: Table, matched_k: Table, separation: np.ndarray) -> Table:
    """One row per matched pair: position of the Ks detection, the solved magnitudes, both bands' flags."""
    out = Table()
    out["id"] = np.arange(1, len(matched_k) + 1)
    out["ra"] = np.asarray(matched_k["ra"])
    out["dec"] = np.asarray(matched_k["dec"])
    out["x_ks"], out["y_ks"] = np.asarray(matched_k["x"]), np.asarray(matched_k["y"])
    for name in ("H", "e_H", "K", "e_K", "HK", "e_HK", "e_H_cal", "e_K_cal", "e_HK_cal"):
        out[name] = solved[name]
        out[name].unit = "mag"
    out["ra"].unit = out["dec"].unit = "deg"
    out["flags_h"] = np.asarray(matched_h["flags"])
    out["flags_ks"] = np.asarray(matched_k["flags"])
    out["separation"] = separation
    out["separation"].unit = "arcsec"
    out["HK"].description = "H - K from the colour-term system solved exactly (Dutra et al. 2003, eqs. 2-3)"
    out["e_H_cal"].description = CALIBRATION_ERROR
    out["K"].description = "K (Persson/LCO system) from the Ks stack; e_K_cal includes the 0.02 mag Ks -> K term"
    return out
