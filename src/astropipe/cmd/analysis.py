"""CMD analysis of one field (Dutra et al. 2003, §3.3, Figs. 7-8): the stars of the CMDs, their completeness,
the colour sequences and the luminosity functions.

:func:`analyse_cmd` takes the calibrated H/Ks catalogue of a field and its object/field regions, and

1. replaces saturated detections by the reference survey's stars (optional,
   :func:`astropipe.calibrate.saturated.replace_saturated`): their PSF magnitudes are not even bounds,
   and left out they would make the object and field CMDs incomplete differently at the bright end
   (a nebula saturates stars fainter in the object area);
2. keeps the well-measured stars (no saturated, edge or poor-fit flag, colour error below
   ``max_error_mag``) and labels each with its region and distance from the centre;
3. reads each star's completeness from the artificial stars, and the completeness limits at
   ``completeness_level`` (stars from the reference count as complete: it does not saturate there);
4. locates the colour sequences on the stars above both limits, and builds the luminosity functions
   of the object and the area-scaled field per colour interval.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from astropy.table import Table
from astropy.wcs import WCS

from astropipe.calibrate.saturated import replace_saturated, saturated_detections
from astropipe.cmd.artificial_star_response import completeness_at
from astropipe.cmd.luminosity import completeness_weights, luminosity_functions
from astropipe.cmd.regions import Regions
from astropipe.cmd.sequences import ColourSequences, locate_sequences
from astropipe.photometry.artificial_stars import completeness_limit_with_error
from astropipe.photometry.catalog import FLAG_EDGE, FLAG_POOR_FIT, FLAG_SATURATED

__all__ = ["CMDAnalysis", "ReferenceStars", "analyse_cmd", "completeness_limits"]


@dataclass(frozen=True)
class ReferenceStars:
    """The reference survey standing in for saturated stars: its stars, the fitted relations per band
    (reference minus ours) and its resolution (arcsec)."""

    stars: Table
    relations: dict[str, dict[str, float]]
    resolution_arcsec: float


@dataclass(frozen=True)
class CMDAnalysis:
    """The CMD stars (with ``region``, ``radius``, completeness and ``in_sequences``), the luminosity
    functions, the colour sequences and the keys of ``cmd.json``."""

    stars: Table
    luminosity: Table
    sequences: ColourSequences
    intervals: dict[str, tuple[float, float]]
    summary: dict


def completeness_limits(
    completeness: dict[str, Table], offsets: dict[str, float], level: float, paths: dict[str, str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Calibrated H and K where the artificial stars' fitted completeness curve falls to ``level`` (step 3),
    and their errors (mag).

    ``completeness`` and ``offsets`` (instrumental to calibrated, mag) are keyed by band ``"H"``, ``"Ks"``;
    the results by ``"H"``, ``"K"``. A table whose completeness never falls to ``level`` is an error naming it.
    """
    limits, errors = {}, {}
    for ours, band in (("H", "H"), ("K", "Ks")):
        try:
            limit, errors[ours] = completeness_limit_with_error(completeness[band], level)
        except ValueError as problem:  # too few bins for the completeness curve
            raise ValueError(f"{paths[band]}: {problem}") from problem
        if not np.isfinite(limit):
            raise ValueError(
                f"{paths[band]}: the completeness never falls below imaging.cmd.completeness_level = {level}; "
                "the artificial stars must reach fainter (imaging.photometry.artificial_stars)"
            )
        limits[ours] = limit + offsets[band]
    return limits, errors


def _cmd_stars(catalog: Table, regions: Regions, max_error: float) -> tuple[Table, np.ndarray]:
    """The well-measured stars with their region and radius (step 2), and the mask of them in ``catalog``."""
    flags = np.asarray(catalog["flags_h"]) | np.asarray(catalog["flags_ks"])
    bad = (flags & (FLAG_SATURATED | FLAG_EDGE | FLAG_POOR_FIT)) > 0
    good = ~bad & (np.asarray(catalog["e_HK"]) < max_error) & np.isfinite(catalog["HK"])
    stars = catalog[good]
    x, y = np.asarray(stars["x_ks"]), np.asarray(stars["y_ks"])
    region = np.full(len(stars), "other", dtype="<U6")
    region[regions.in_object(x, y)] = "object"
    region[regions.in_field(x, y)] = "field"
    stars["region"] = region
    stars["radius"] = regions.radius_arcsec(x, y)
    stars["radius"].unit = "arcsec"
    return stars, good


def analyse_cmd(
    catalog: Table,
    regions: Regions,
    wcs: WCS,
    completeness: dict[str, Table],
    settings: dict,
    seed: int,
    *,
    reference: ReferenceStars | None = None,
    completeness_paths: dict[str, str] | None = None,
    log: logging.Logger | None = None,
) -> CMDAnalysis:
    """Steps 1-4 of the module on one field.

    Parameters
    ----------
    catalog : astropy.table.Table
        The field's calibrated H/Ks catalogue (``H``, ``K``, ``HK``, ``e_HK``, ``flags_h``, ``flags_ks``,
        ``x_ks``, ``y_ks``, ``ra``, ``dec``; ``meta`` the instrumental-to-calibrated offsets per band).
    regions : astropipe.cmd.regions.Regions
        The object disc and the field region on the Ks stack.
    wcs : astropy.wcs.WCS
        Celestial WCS of the Ks stack.
    completeness : dict
        Artificial-star completeness tables by band ``"H"``, ``"Ks"``.
    settings : dict
        ``imaging.cmd``.
    seed : int
        The configured seed (the colour sequences' bootstrap).
    reference : ReferenceStars, optional
        Needed when ``settings["saturated_from_reference"]``.
    completeness_paths : dict, optional
        The completeness tables' paths by band, for error messages.
    log : logging.Logger, optional

    Returns
    -------
    CMDAnalysis
    """
    log = log or logging.getLogger(__name__)
    area_object, area_field = regions.areas_arcmin2()
    log.info("usable areas: object %.3f arcmin^2, field %.3f arcmin^2", area_object, area_field)
    catalog, n_replaced = _with_reference_stars(catalog, settings, reference, wcs, log)
    saturated = saturated_detections(catalog)
    stars, good = _cmd_stars(catalog, regions, settings["max_error_mag"])
    in_object_saturated = saturated & regions.in_object(np.asarray(catalog["x_ks"]), np.asarray(catalog["y_ks"]))
    saturated_k_object = np.sort(np.asarray(catalog["K"])[in_object_saturated])
    log.info(
        "%d saturated detections left out (%d in the object area, K = %s)",
        *(int(saturated.sum()), saturated_k_object.size, ", ".join(f"{k:.1f}" for k in saturated_k_object[:10])),
    )
    paths = completeness_paths or {"H": "H completeness", "Ks": "Ks completeness"}
    limits, limit_errors = _completeness(stars, catalog.meta, completeness, settings["completeness_level"], paths, log)
    sequences = locate_sequences(np.asarray(stars["HK"][stars["in_sequences"]]), seed=seed)
    log.info(
        "colour sequences (medians) at H - K = %s",
        ", ".join(f"{m:.3f} +- {e:.3f}" for m, e in zip(sequences.medians, sequences.medians_err, strict=True)),
    )
    lf, intervals = _luminosity(stars, limits["K"], settings, area_object / area_field)
    stars.meta.update({"area_object_arcmin2": area_object, "area_field_arcmin2": area_field})
    summary = {
        "object_radius_arcsec": settings["object_radius_arcsec"],
        "field_inner_radius_arcsec": settings["field_inner_radius_arcsec"],
        "area_object_arcmin2": area_object,
        "area_field_arcmin2": area_field,
        "area_ratio": area_object / area_field,
        "annuli": _annuli(regions, settings, area_field),
        "n_object": int(np.sum(stars["region"] == "object")),
        "n_field": int(np.sum(stars["region"] == "field")),
        "n_rejected_quality": int((~good).sum()),
        "n_rejected_saturated": int(saturated.sum()),
        "saturated_from_reference": settings["saturated_from_reference"],
        "n_saturated_replaced": n_replaced,
        "n_from_reference": int(np.sum(catalog["source"] == "reference")),
        "saturated_object_k_mag": saturated_k_object.tolist(),
        "completeness_level": settings["completeness_level"],
        "completeness_limit_h_mag": limits["H"],
        "completeness_limit_k_mag": limits["K"],
        "completeness_limit_h_err_mag": limit_errors["H"],
        "completeness_limit_k_err_mag": limit_errors["K"],
        "colour_sequences": sequences.as_dict(),
        "colour_intervals": intervals,
    }
    return CMDAnalysis(stars, lf, sequences, intervals, summary)


def _with_reference_stars(
    catalog: Table, settings: dict, reference: ReferenceStars | None, wcs: WCS, log: logging.Logger
) -> tuple[Table, int]:
    """Step 1: a copy of the catalogue with a ``source`` column, its saturated detections replaced if configured."""
    catalog = catalog.copy()
    catalog["source"] = np.full(len(catalog), "psf", dtype="<U9")
    if not settings["saturated_from_reference"]:
        return catalog, 0
    if reference is None:
        raise ValueError("imaging.cmd.saturated_from_reference is on but no reference stars were given")
    catalog, n_replaced, n_substitutes = replace_saturated(
        catalog, reference.stars, reference.relations, reference.resolution_arcsec, wcs
    )
    log.info("%d saturated detections replaced by %d reference stars", n_replaced, n_substitutes)
    return catalog, n_replaced


def _completeness(
    stars: Table, meta: dict, completeness: dict[str, Table], level: float, paths: dict[str, str], log: logging.Logger
) -> tuple[dict[str, float], dict[str, float]]:
    """Step 3: each star's completeness in H and K (1 for reference stars), the limits and their errors,
    ``in_sequences``."""
    offsets = {band: float(meta[f"instrumental_to_calibrated_{band}_mag"]) for band in ("H", "Ks")}
    stars["completeness_h"] = completeness_at(completeness["H"], stars["H"], offsets["H"])
    stars["completeness_k"] = completeness_at(completeness["Ks"], stars["K"], offsets["Ks"])
    from_reference = stars["source"] == "reference"  # complete: the reference survey does not saturate there
    stars["completeness_h"][from_reference] = stars["completeness_k"][from_reference] = 1.0
    limits, errors = completeness_limits(completeness, offsets, level, paths)
    stars["in_sequences"] = (stars["H"] < limits["H"]) & (stars["K"] < limits["K"]) & (stars["region"] != "other")
    log.info(
        "completeness %.0f %% limits (fitted curves): H = %.2f +- %.2f, K = %.2f +- %.2f",
        *(100 * level, limits["H"], errors["H"], limits["K"], errors["K"]),
    )
    return limits, errors


def _luminosity(
    stars: Table, limit_k: float, settings: dict, field_scale: float
) -> tuple[Table, dict[str, tuple[float, float]]]:
    """Step 4: the luminosity functions per colour interval, down to 1 mag below the K limit."""
    k_bins = np.arange(np.floor(np.nanmin(stars["K"])), np.ceil(limit_k) + 1.0 + 1e-9, settings["magnitude_bin_mag"])
    intervals = {"blue": tuple(settings["blue_interval"]), "red": tuple(settings["red_interval"])}
    weights = completeness_weights(stars["completeness_h"], stars["completeness_k"], settings["completeness_level"])
    columns = (np.asarray(stars["K"]), np.asarray(stars["HK"]), np.asarray(stars["region"]))
    return luminosity_functions(*columns, weights, k_bins, intervals, field_scale), intervals


def _annuli(regions: Regions, settings: dict, area_field: float) -> list[dict]:
    """The rings of the object disc the decontamination works in, with their areas and area ratios to the field."""
    edges = np.linspace(0.0, settings["object_radius_arcsec"], settings["annuli"] + 1)
    return [
        {
            "inner_arcsec": float(lo),
            "outer_arcsec": float(hi),
            "area_arcmin2": regions.area_arcmin2(lo, hi),
            "area_ratio": regions.area_arcmin2(lo, hi) / area_field,
        }
        for lo, hi in pairwise(edges)
    ]
