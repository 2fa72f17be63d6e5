"""Membership of the object-area stars (Dutra et al. 2003, §3.3, Fig. 9), and what the decontamination reports.

:func:`measure_membership` runs, on the calibrated stars of one field:

0. where the foreground extinction varies across the frame (``background_reddening.mode``: ``auto`` decides),
   every star put behind the frame's median foreground by a differential-reddening map of the bulge giants
   (:mod:`astropipe.cmd.background_reddening`), so that the field region stands for the object area's field stars;
1. the paper's statistical decontamination ring by ring (:func:`decontaminate_rings`): each ring of the
   object disc against the field CMD scaled to the ring's area, so that the cluster's central
   concentration raises the membership probability where the cluster dominates; by default the stars are
   matched on the equal-density magnitude scale (:func:`astropipe.cmd.decontaminate.equal_density_magnitudes`);
2. the tenth-brightest red-sequence survivor of every repeat (:func:`tenth_brightest_per_repeat`), with
   the object stars bootstrapped too, so that its spread carries the sampling noise of both CMDs;
3. a truth-free check above the completeness limits: calibrated probabilities sum to the object area's
   statistical excess over the area-scaled field (:func:`probability_check_above_limits`);
4. the mixture model beside the paper's method (:func:`astropipe.cmd.mixture.fit_mixture_membership`), with
   the colour errors and completeness the artificial stars measured, its members' band held redward of the
   colour valley, the field region's star count scaled by the area ratio, and its operating point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.cmd.artificial_star_response import (
    ColourErrorDistribution,
    colour_error_distribution,
    completeness_model,
)
from astropipe.cmd.background_reddening import VARYING_FOREGROUND_RATIO, background_reddening_step
from astropipe.cmd.decontaminate import decontaminate, equal_density_magnitudes
from astropipe.cmd.mixture import MixtureMembership, fit_mixture_membership
from astropipe.distance.tenth_brightest import tenth_brightest
from astropipe.random_streams import random_stream

__all__ = [
    "Membership",
    "RingDecontamination",
    "decontaminate_rings",
    "measure_membership",
    "operating_threshold",
    "probability_check_above_limits",
    "tenth_brightest_per_repeat",
]

K10_BOOTSTRAP_STREAM = 1010  # the object-star bootstrap's stream key, apart from the rings' (seed, ring, repeat)


@dataclass(frozen=True)
class RingDecontamination:
    """Membership probability and survivors of every object star, and the subtraction counts per repeat."""

    probability: NDArray[np.float64]
    survivors: NDArray[np.bool_]
    n_subtracted: NDArray[np.float64]
    n_unmatched: NDArray[np.float64]


def decontaminate_rings(
    obj: Table, field: Table, annuli: list[dict], settings: dict, seed: int, log: logging.Logger
) -> RingDecontamination:
    """Step 1: decontaminate each ring of the object disc by the field scaled to its area.

    ``annuli`` are the CMD step's rings (``inner_arcsec``, ``outer_arcsec``, ``area_ratio``); ring i's
    repeats draw from the stream (seed, i, repeat). ``settings``: ``repeats``, ``colour_weight``,
    ``max_distance_mag``, ``resample_field``, ``magnitude_axis`` (``magnitude``: H, as in the paper;
    ``equal_density``: H on the scale on which the whole disc's stars are evenly spaced,
    :func:`astropipe.cmd.decontaminate.equal_density_magnitudes`, for the object and the field stars alike).
    """
    repeats = settings["repeats"]
    object_h, field_h = np.asarray(obj["H"], float), np.asarray(field["H"], float)
    if settings["magnitude_axis"] == "equal_density":
        object_h, field_h = equal_density_magnitudes(object_h, object_h), equal_density_magnitudes(field_h, object_h)
    probability = np.zeros(len(obj))
    survivors = np.zeros((repeats, len(obj)), dtype=bool)
    n_subtracted, n_unmatched = np.zeros(repeats), np.zeros(repeats)
    for index, ring in enumerate(annuli):
        inside = (obj["radius"] >= ring["inner_arcsec"]) & (obj["radius"] < ring["outer_arcsec"])
        result = decontaminate(
            np.asarray(obj["HK"][inside]),
            object_h[inside],
            np.asarray(field["HK"]),
            field_h,
            ring["area_ratio"],
            colour_weight=settings["colour_weight"],
            max_distance=settings["max_distance_mag"],
            repeats=repeats,
            seed=(seed, index),
            resample_field=settings["resample_field"],
        )
        probability[inside], survivors[:, inside] = result.probability, result.survivors
        n_subtracted += result.n_subtracted
        n_unmatched += result.n_unmatched
        log.info(
            "ring %.1f-%.1f arcsec: %d stars, %.1f field stars subtracted per repeat",
            ring["inner_arcsec"],
            ring["outer_arcsec"],
            inside.sum(),
            result.n_subtracted.mean(),
        )
    return RingDecontamination(probability, survivors, n_subtracted, n_unmatched)


def tenth_brightest_per_repeat(
    k: NDArray, red: NDArray[np.bool_], survivors: NDArray[np.bool_], seed: int
) -> NDArray[np.float64]:
    """Step 2: K of the tenth-brightest red-sequence survivor in every repeat (mag).

    Foreground disc stars the field happened not to remove are bluer than the red-sequence boundary and
    are not cluster candidates. Repeat r also draws Poisson multiplicities of the object stars from the
    stream (seed, ``K10_BOOTSTRAP_STREAM``, r), so the spread over repeats carries the object CMD's
    sampling noise besides the field's.
    """
    tenth = np.empty(len(survivors))
    for r, alive in enumerate(survivors):
        counts = random_stream(seed, K10_BOOTSTRAP_STREAM, r).poisson(1.0, len(k))
        tenth[r] = tenth_brightest(np.where(alive & red, np.asarray(k, float), np.nan), counts)
    return tenth


def probability_check_above_limits(
    obj: Table, field: Table, probability: NDArray, limit_h: float, limit_k: float, area_ratio: float
) -> dict:
    """Step 3: object stars minus the area-scaled field above both completeness limits, against the summed probability."""
    object_above = (obj["K"] < limit_k) & (obj["H"] < limit_h)
    field_above = (field["K"] < limit_k) & (field["H"] < limit_h)
    return {
        "n_object": int(object_above.sum()),
        "n_field": int(field_above.sum()),
        "statistical_excess": float(object_above.sum() - area_ratio * field_above.sum()),
        "statistical_excess_err": float(np.sqrt(object_above.sum() + area_ratio**2 * field_above.sum())),
        "sum_probability": float(probability[np.asarray(object_above)].sum()),
    }


def _colour_errors_near_limit(
    obj: Table, limit_h: float, limit_k: float, colour_errors: ColourErrorDistribution
) -> dict:
    """The artificial stars' H - K error half a magnitude above the H limit, beside the median formal error."""
    above = np.asarray((obj["K"] < limit_k) & (obj["H"] < limit_h))
    near_limit = above & np.asarray(obj["H"] > limit_h - 1.0)
    near_limit = near_limit if near_limit.any() else above
    errors = {
        "h_mag": limit_h - 0.5,
        "k_mag": limit_h - 0.5 - float(np.median(obj["HK"][near_limit])),
        "formal_median_mag": float(np.median(obj["e_HK"][near_limit])),
    }
    errors["artificial_68_halfwidth_mag"] = colour_errors.halfwidth_68(errors["h_mag"], errors["k_mag"])
    return errors


def _mixture(
    obj: Table,
    field: Table,
    summary: dict,
    colour_errors: ColourErrorDistribution,
    completeness,
    settings: dict,
    log: logging.Logger,
) -> tuple[MixtureMembership, dict]:
    """Step 4: the mixture model and its operating point (a field removal measured on the field region,
    ``balanced``, or a target completeness)."""
    valley = summary["colour_sequences"]["valleys_mag"][0]  # the members' band is held redward of it
    mixture = fit_mixture_membership(
        np.asarray(obj["H"], float),
        np.asarray(obj["HK"], float),
        np.asarray(obj["radius"], float),
        np.asarray(field["H"], float),
        np.asarray(field["HK"], float),
        summary["completeness_limit_h_mag"],
        summary["completeness_limit_k_mag"],
        summary["object_radius_arcsec"],
        colour_errors.at,
        completeness=completeness,
        blue_edge=valley,
        field_area_ratio=summary["area_ratio"],
    )
    threshold = operating_threshold(mixture, settings)
    expected_completeness, expected_removal = mixture.expected_rates(threshold)
    measured_removal = mixture.field_region_removal(threshold)
    log.info(
        "mixture model: %.1f +- %.1f members above the limits, H - K = %.3f +- %.3f (uniform; at most %.3f), LF slope "
        "%.3f, core %.1f arcsec; %d stars with p >= %.3f (%s): expected completeness %.0f%%, field removal %.0f%% "
        "(%.0f%% of the field region's stars placed over the object area)",
        *(mixture.n_members, mixture.n_members_err, mixture.colour_centre, mixture.colour_halfwidth),
        *(mixture.colour_halfwidth_limit, mixture.lf_slope),
        *(mixture.core_radius, int(np.sum(mixture.probability >= threshold)), threshold),
        *(settings["mixture_operating_point"], 100 * expected_completeness, 100 * expected_removal),
        100 * measured_removal,
    )
    if mixture.colour_band_at_bound:
        log.warning(
            "mixture model: the members' colour band went to its largest half-width (%.3f mag): the data do not "
            "identify the members' colours, and its probabilities (and the cluster reddening weighted by them) "
            "are unreliable",
            mixture.colour_halfwidth,
        )
    if mixture.colour_band_at_valley:
        log.info(
            "mixture model: the members' colour band's blue edge stopped at the colour valley (H - K = %.3f), where "
            "it is held: the likelihood wanted it bluer, over the field's blue sequence",
            valley,
        )
    return mixture, {
        "operating_point": settings["mixture_operating_point"],
        "threshold": threshold,
        "n_kept": int(np.sum(mixture.probability >= threshold)),
        "expected_completeness": expected_completeness,
        "expected_field_removal": expected_removal,
        "field_region_removal": measured_removal,
    }


def operating_threshold(mixture: MixtureMembership, settings: dict) -> float:
    """The mixture's membership threshold at the configured operating point (``mixture_operating_point``)."""
    point = settings["mixture_operating_point"]
    if point == "balanced":
        return mixture.threshold_balanced()
    if point == "field_removal":
        return mixture.threshold_for_field_removal(settings["mixture_field_removal"])
    return mixture.threshold_for_completeness(settings["mixture_completeness"])


@dataclass(frozen=True)
class Membership:
    """The object-area stars with ``probability`` and ``mixture_probability``, the field region's stars they were
    decontaminated against (both dereddened where ``background_reddening`` is on), and the summary."""

    stars: Table
    field: Table
    summary: dict


def measure_membership(
    stars: Table,
    summary: dict,
    artificial: tuple[Table, Table],
    completeness: tuple[Table, Table],
    settings: dict,
    seed: int,
    *,
    ak_per_ehk: float,
    stars_path: str = "the CMD's stars",
    artificial_paths: tuple[str, str] = ("H", "Ks"),
    log: logging.Logger | None = None,
) -> Membership:
    """Membership probabilities of one field's object-area stars by both methods (steps 1-4 of the module).

    Parameters
    ----------
    stars : astropy.table.Table
        The CMD step's calibrated stars (``region`` object/field, ``H``, ``K``, ``HK``, ``e_HK``,
        ``radius`` in arcsec; ``meta`` the instrumental-to-calibrated offsets per band).
    summary : dict
        The CMD step's summary (annuli, area ratio, completeness limits, colour sequences, object radius).
    artificial, completeness : (Table, Table)
        The artificial-star recoveries and completeness tables in H and Ks.
    settings : dict
        ``imaging.decontamination``.
    seed : int
        The configured seed (streams: rings (seed, ring, repeat); K10 (seed, 1010, repeat)).
    ak_per_ehk : float
        Extinction law A_K / E(H - K), the direction along which ``background_reddening`` moves the stars.
    stars_path : str
        Name of the stars' table for error messages.
    artificial_paths : (str, str)
        Names of the artificial-star tables for error messages.
    log : logging.Logger, optional

    Returns
    -------
    Membership
    """
    log = log or logging.getLogger(__name__)
    limits = (summary["completeness_limit_h_mag"], summary["completeness_limit_k_mag"])
    stars, background = _background_reddening(
        stars, summary, limits, settings["background_reddening"], ak_per_ehk, stars_path, log
    )
    obj, field = stars[stars["region"] == "object"], stars[stars["region"] == "field"]
    paper = _paper_method(obj, field, summary, settings, seed, log)
    obj["probability"] = paper.rings.probability
    offsets = {band: float(stars.meta[f"instrumental_to_calibrated_{band}_mag"]) for band in ("H", "Ks")}
    colour_errors = colour_error_distribution(
        artificial[0],
        offsets["H"],
        artificial[1],
        offsets["Ks"],
        (float(np.min(stars["H"])), limits[0]),
        (float(np.min(stars["K"])), limits[1]),
        paths=artificial_paths,
    )
    response = completeness_model(completeness[0], offsets["H"], completeness[1], offsets["Ks"])
    errors_near_limit = _colour_errors_near_limit(obj, *limits, colour_errors)
    log.info(
        "H - K error at H = %.2f, K = %.2f: artificial stars +- %.3f mag (16-84 %%), median formal error %.3f mag",
        *(errors_near_limit[key] for key in ("h_mag", "k_mag", "artificial_68_halfwidth_mag", "formal_median_mag")),
    )
    mixture, operating_point = _mixture(obj, field, summary, colour_errors, response, settings, log)
    obj["mixture_probability"] = mixture.probability
    obj.meta.update(
        {
            "member_probability": settings["member_probability"],
            "repeats": settings["repeats"],
            "mixture_threshold": operating_point["threshold"],
        }
    )
    mixture_summary = mixture.as_dict() | operating_point | {"colour_errors_near_h_limit": errors_near_limit}
    report = _summary(obj, field, summary, settings, paper, mixture_summary) | {"background_reddening": background}
    return Membership(obj, field, report)


def _background_reddening(
    stars: Table,
    summary: dict,
    limits: tuple[float, float],
    settings: dict,
    ak_per_ehk: float,
    stars_path: str,
    log: logging.Logger,
) -> tuple[Table, dict]:
    """Step 0 (:func:`astropipe.cmd.background_reddening.background_reddening_step`), logged."""
    boundary = summary["colour_sequences"]["valleys_mag"][0]
    stars, report = background_reddening_step(stars, boundary, limits, ak_per_ehk, settings, source=stars_path)
    if "not_mapped" in report:
        log.warning("background reddening not mapped, the stars are left as measured: %s", report["not_mapped"])
    elif report["mode"] != "never":
        log.info(
            "background reddening: %d reference stars redder than H - K = %.3f and above the limits, %d per local "
            "median; E(H - K) offsets rms %.3f mag (%.3f to %.3f; %.2f times a uniform foreground's %.3f), medians "
            "object area %+.3f, field region %+.3f mag: %s",
            *(report["n_reference"], boundary, report["neighbours"], report["offset_rms_mag"]),
            *report["offset_range_mag"],
            *(report["significance"], report["uniform_foreground_rms_mag"]),
            *(report["object_area_median_offset_mag"], report["field_region_median_offset_mag"]),
            "applied" if report["applied"] else f"not applied (below {VARYING_FOREGROUND_RATIO} times, mode auto)",
        )
    return stars, report


@dataclass(frozen=True)
class _PaperMethod:
    """Steps 1-3: the rings' decontamination, K10 per repeat and the check above the completeness limits."""

    rings: RingDecontamination
    n_members: int
    boundary: float
    tenth: NDArray[np.float64]
    above_limits: dict


def _paper_method(
    obj: Table, field: Table, summary: dict, settings: dict, seed: int, log: logging.Logger
) -> _PaperMethod:
    rings = decontaminate_rings(obj, field, summary["annuli"], settings, seed, log)
    cut = settings["member_probability"]
    n_members = int(np.sum(rings.probability >= cut))
    log.info(
        "%d object-area stars; %.0f field stars subtracted per repeat (%.1f unmatched); %d kept with p >= %.2f",
        len(obj),
        rings.n_subtracted.mean(),
        rings.n_unmatched.mean(),
        n_members,
        cut,
    )
    boundary = summary["colour_sequences"]["valleys_mag"][0]
    tenth = tenth_brightest_per_repeat(np.asarray(obj["K"]), np.asarray(obj["HK"]) > boundary, rings.survivors, seed)
    above = probability_check_above_limits(
        obj,
        field,
        rings.probability,
        summary["completeness_limit_h_mag"],
        summary["completeness_limit_k_mag"],
        summary["area_ratio"],
    )
    log.info(
        "above the completeness limits: %d object stars - %.1f area-scaled field stars = %.1f +- %.1f members; the "
        "probabilities sum to %.1f",
        above["n_object"],
        summary["area_ratio"] * above["n_field"],
        above["statistical_excess"],
        above["statistical_excess_err"],
        above["sum_probability"],
    )
    return _PaperMethod(rings, n_members, boundary, tenth, above)


def _summary(obj: Table, field: Table, summary: dict, settings: dict, paper: _PaperMethod, mixture: dict) -> dict:
    """The keys of ``decontamination.json``."""
    return {
        "method": "Zoccali et al. (2003): d = sqrt([k d(H-K)]^2 + dH^2)",
        "colour_weight": settings["colour_weight"],
        "max_distance_mag": settings["max_distance_mag"],
        "magnitude_axis": settings["magnitude_axis"],
        "repeats": settings["repeats"],
        "area_ratio": summary["area_ratio"],
        "n_object": len(obj),
        "n_field": len(field),
        "annuli": summary["annuli"],
        "resample_field": settings["resample_field"],
        "n_subtracted_mean": float(paper.rings.n_subtracted.mean()),
        "n_unmatched_mean": float(paper.rings.n_unmatched.mean()),
        "n_members": paper.n_members,
        "member_probability": settings["member_probability"],
        "above_completeness_limits": paper.above_limits,
        "mixture": mixture,
        "red_sequence_boundary_hk": paper.boundary,
        "k10_per_repeat_median_mag": float(np.nanmedian(paper.tenth)),
        "k10_per_repeat_std_mag": float(np.nanstd(paper.tenth)),
        "k10_per_repeat": [float(v) for v in paper.tenth],
    }
