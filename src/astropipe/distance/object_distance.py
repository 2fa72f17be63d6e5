"""Reddening and distance of one cluster from its decontaminated CMD (Dutra et al. 2003, §3.3, Fig. 10).

:func:`measure_distance` takes the CMD stars, the membership and the two summaries before it, and

1. measures the foreground reddening from the bulge red clump of the field region
   (:func:`astropipe.distance.reddening.clump_reddening`), searched redwards of the blue/red boundary;
2. takes K10, the tenth-brightest red-sequence member, as the median over the decontamination's
   repeats, its error the spread over the repeats and the tenth member's photometric error;
3. measures the cluster's E(H-K) from the upper main sequence: the object-area stars redder than the
   boundary down to ``upper_ms_depth_mag`` below K10 in a reddening-free magnitude
   (:func:`astropipe.distance.reddening.upper_main_sequence_reddening`), weighted by their mixture-model
   membership probability (:mod:`astropipe.cmd.mixture`), its error including the colour calibration, and says
   (``e_hk_mixture_band_at_bound``, with a warning) when those probabilities come from a fit whose colour
   band sits at its bound;
4. converts K10 into a distance for every absolute-magnitude hypothesis (e.g. the tenth star a B0V).

:func:`main_sequence_overlay` draws the reddened main sequence at the preferred distance for Fig. 10.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from astropy.table import Table

from astropipe.distance.reddening import (
    MAX_BOX_ITERATIONS,
    clump_reddening,
    extinction_k,
    upper_main_sequence_reddening,
)
from astropipe.distance.tenth_brightest import tenth_star_distance
from astropipe.stellar.main_sequence import DWARF_MASSES, UpperMainSequence

__all__ = ["OVERLAY_LABELS", "main_sequence_overlay", "measure_distance"]

OVERLAY_LABELS = ("O5V", "B0V", "B2V", "B5V", "A0V", "F0V")  # spectral types marked on the Fig. 10 sequence


def _k10(members: Table, decontamination: dict, membership_path: str) -> tuple[float, float]:
    """Step 2: K10 (median over the repeats) and its error (mag)."""
    k10_values = np.asarray(decontamination["k10_per_repeat"], float)
    k10 = float(np.nanmedian(k10_values))
    tenth_star = members[np.argsort(members["K"])][9] if len(members) >= 10 else None
    if tenth_star is None or not np.isfinite(k10):
        raise ValueError(f"{membership_path}: fewer than ten decontaminated members; no tenth-brightest star")
    return k10, float(np.hypot(np.nanstd(k10_values), tenth_star["e_K"]))


def measure_distance(
    stars: Table,
    membership: Table,
    cmd_summary: dict,
    decontamination: dict,
    settings: dict,
    law: float,
    *,
    membership_path: str = "membership",
    log: logging.Logger | None = None,
) -> dict:
    """Steps 1-4 of the module: the keys of ``distance.json`` (magnitudes in mag, distances in kpc).

    Parameters
    ----------
    stars : astropy.table.Table
        The CMD stars (``region``, ``K``, ``HK``).
    membership : astropy.table.Table
        The object-area stars with ``probability`` (``meta`` ``member_probability``), ``mixture_probability``
        (NaN outside the mixture's region, below the completeness limits), ``e_K``, ``e_HK``, ``e_HK_cal``.
    cmd_summary, decontamination : dict
        ``cmd.json`` and ``decontamination.json`` of the field.
    settings : dict
        ``imaging.distance``.
    law : float
        A_K / E(H - K).
    membership_path : str
        Named in the error when there are fewer than ten members.
    log : logging.Logger, optional
    """
    log = log or logging.getLogger(__name__)
    boundary = decontamination["red_sequence_boundary_hk"]
    foreground = _foreground(stars[stars["region"] == "field"], settings["clump_reference"], law, boundary, log)
    members = membership[membership["probability"] >= membership.meta["member_probability"]]
    k10, k10_err = _k10(members, decontamination, membership_path)
    upper = upper_main_sequence_reddening(
        np.asarray(membership["K"]),
        np.asarray(membership["HK"]),
        np.asarray(membership["e_HK"]),
        np.asarray(membership["mixture_probability"], float),
        faint_k=k10 + settings["upper_ms_depth_mag"],
        boundary=boundary,
        law=law,
        intrinsic_hk=settings["upper_ms_intrinsic_hk"],
    )
    if not upper.converged:
        log.warning(
            "upper MS: the box along the reddening vector did not settle in %d steps; E(H-K) is from the last one",
            MAX_BOX_ITERATIONS,
        )
    cluster = upper.cluster
    e_hk_err = float(np.hypot(cluster.e_hk_err, float(np.median(membership["e_HK_cal"][upper.selected]))))
    band_at_bound = bool(decontamination["mixture"]["colour_halfwidth_at_bound"])
    if band_at_bound:
        log.warning(
            "E(H-K) is weighted by the probabilities of a mixture fit whose colour band sits at its bound "
            "(decontamination.json): treat it and its error with caution"
        )
    a_k, a_k_err = extinction_k(cluster.e_hk, law), law * e_hk_err
    log.info(
        "upper MS: %d candidates (%.1f members expected) down to K = %.2f at H - K = %.3f along the reddening "
        "vector, weighted median H - K = %.3f -> E(H-K) = %.3f +- %.3f, spread %.3f (half-width %.3f)",
        *(cluster.n_stars, cluster.n_members, k10 + settings["upper_ms_depth_mag"], upper.reference_hk),
        *(cluster.mean_hk, cluster.e_hk, e_hk_err, cluster.e_hk_spread, cluster.e_hk_halfwidth),
    )
    distances = {}
    for name, hypothesis in settings["hypotheses"].items():
        distances[name] = tenth_star_distance(
            k10, k10_err, a_k, a_k_err, law * cluster.e_hk_halfwidth, hypothesis["absolute_k"]
        )
        log.info("%s: d = %.2f +- %.2f kpc", name, distances[name]["value"], distances[name]["err"])
    av_per_ak = settings["av_per_ak"]
    return {
        "k10": k10,
        "k10_err": k10_err,
        "e_hk": cluster.e_hk,
        "e_hk_err": e_hk_err,
        "e_hk_spread": cluster.e_hk_spread,
        "e_hk_halfwidth": cluster.e_hk_halfwidth,
        "upper_ms_mean_hk": cluster.mean_hk,
        "upper_ms_box_reference_hk": upper.reference_hk,
        "upper_ms_n_stars": cluster.n_stars,
        "upper_ms_n_members": cluster.n_members,
        "e_hk_mixture_band_at_bound": band_at_bound,
        "a_k": a_k,
        "a_k_err": a_k_err,
        "a_v": a_k * av_per_ak,
        "a_v_err": a_k_err * av_per_ak,
        "extinction_law_ak_per_ehk": law,
        "av_per_ak": av_per_ak,
        "foreground": foreground.as_dict() | {"a_v": foreground.a_k * av_per_ak},
        "distance_kpc": distances,
        **_from_the_cmd(cmd_summary),
        "n_members": len(members),
        # saturated stars are not in the CMD: if some in the object area are brighter than K10 and members,
        # the true K10 is brighter than the one measured
        "n_saturated_object_brighter_than_k10": int(np.sum(np.asarray(cmd_summary["saturated_object_k_mag"]) < k10)),
        "units": "magnitudes in mag, distances in kpc",
    }


def _foreground(field: Table, clump: dict, law: float, boundary: float, log: logging.Logger):
    """Step 1: the foreground reddening from the bulge red clump of the field region, redwards of ``boundary``."""
    foreground = clump_reddening(
        np.asarray(field["K"]),
        np.asarray(field["HK"]),
        clump["k0"],
        clump["hk0"],
        clump["hk"],
        law,
        min_colour=boundary,
        half_width=clump["search_half_width_mag"],
        min_stars=clump["min_stars"],
    )
    log.info(
        "bulge clump at K = %.2f, H - K = %.3f +- %.3f: foreground E(H-K) = %.3f, A_K = %.3f",
        *(foreground.clump_k, foreground.clump_hk, foreground.clump_hk_err, foreground.e_hk, foreground.a_k),
    )
    return foreground


def _from_the_cmd(cmd_summary: dict) -> dict:
    """The colour sequences and the completeness limit the CMD step measured."""
    return {
        "colour_sequences_hk": [
            {
                "median": c["median_mag"],
                "median_err": c["median_err_mag"],
                "peak": c["peak_mag"],
                "peak_err": c["peak_err_mag"],
            }
            for c in cmd_summary["colour_sequences"]["components"]
        ],
        "completeness_limit_k_mag": cmd_summary["completeness_limit_k_mag"],
    }


def main_sequence_overlay(dwarf_directory: str | Path, distance_modulus: float, a_k: float, e_hk: float) -> Table:
    """The upper main sequence (1.6-60 Msun) reddened and placed at ``distance_modulus`` (Fig. 10).

    Rows ``K``, ``HK`` (mag) and ``label``: 200 unlabelled points, then one per type of :data:`OVERLAY_LABELS`.
    """
    sequence_model = UpperMainSequence(Path(dwarf_directory))
    masses = np.geomspace(1.6, 60.0, 200)
    absolute, intrinsic = sequence_model.photometry(masses)
    sequence = Table({"K": absolute + distance_modulus + a_k, "HK": intrinsic + e_hk, "label": [""] * masses.size})
    for label in OVERLAY_LABELS:
        k_abs, hk0 = sequence_model.photometry(np.array([DWARF_MASSES[label]]))
        sequence.add_row({"K": k_abs[0] + distance_modulus + a_k, "HK": hk0[0] + e_hk, "label": label})
    return sequence
