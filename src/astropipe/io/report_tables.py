"""The main results as small CSV tables for the HTML report (``snakemake --report`` shows a CSV file
as a table beside the figures): the bulk flow, the distances, the calibration, the survey's classes.

Each function turns a result the workflow already wrote (a JSON summary or a table) into rows with
named, unit-bearing columns, rounded to what the errors support.
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table

__all__ = ["bulk_flow_table", "calibration_table", "classification_table", "distance_table"]


def _table(rows: list[dict], formats: dict[str, str]) -> Table:
    table = Table(rows=rows)
    for name, fmt in formats.items():
        if name in table.colnames:
            table[name].info.format = fmt
    return table


def bulk_flow_table(summary: dict, survey: str) -> Table:
    """One row: the bulk flow of ``survey`` from its ``bulkflow.json`` (Hudson et al. 1999, §3).

    Columns: survey, n_objects, depth_kms, V_x/V_y/V_z_kms (Galactic Cartesian), amplitude_kms ± err,
    amplitude_debiased_kms, l_deg ± err, b_deg ± err, lower95_kms, p_rest.
    """
    vector = summary["vector_kms"]
    row = {
        "survey": survey,
        "n_objects": summary["n_objects"],
        "depth_kms": summary["depth_kms"],
        "V_x_kms": vector[0],
        "V_y_kms": vector[1],
        "V_z_kms": vector[2],
        "amplitude_kms": summary["amplitude_kms"],
        "amplitude_err_kms": summary["amplitude_err_kms"],
        "amplitude_debiased_kms": summary["amplitude_debiased_kms"],
        "l_deg": summary["l_deg"],
        "l_err_deg": summary["l_err_deg"],
        "b_deg": summary["b_deg"],
        "b_err_deg": summary["b_err_deg"],
        "lower95_kms": summary["lower95_kms"],
        "p_rest": summary["p_rest"],
    }
    formats = {name: ".0f" for name in row if name.endswith("_kms")} | {name: ".1f" for name in row if "deg" in name}
    return _table([row], formats | {"p_rest": ".2g"})


def distance_table(summary: dict) -> Table:
    """One row per distance hypothesis of a field's ``summary.json`` (Dutra et al. 2003, §3.3):
    K10, E(H-K), A_K, the foreground E(H-K), the distance modulus and the distance with their errors."""
    rows = []
    for hypothesis, distance in summary["distance_kpc"].items():
        rows.append(
            {
                "field": summary["field"],
                "hypothesis": hypothesis,
                "n_members": summary["n_members"],
                "K10_mag": summary["k10"],
                "K10_err_mag": summary["k10_err"],
                "E_HK_mag": summary["e_hk"],
                "E_HK_err_mag": summary["e_hk_err"],
                "A_K_mag": summary["a_k"],
                "A_K_err_mag": summary["a_k_err"],
                "foreground_E_HK_mag": summary["foreground"]["e_hk"],
                "distance_modulus_mag": distance["distance_modulus"],
                "distance_kpc": distance["value"],
                "distance_err_kpc": distance["err"],
            }
        )
    formats = {name: ".3f" for name in rows[0] if name.endswith("_mag")} if rows else {}
    return _table(rows, formats | {"distance_kpc": ".2f", "distance_err_kpc": ".2f"})


def calibration_table(calibration: dict) -> Table:
    """One row per band of the night's ``calibration.json`` (Dutra et al. 2003, eqs. 2-3): the colour term,
    zero point and extinction coefficient with their errors, the rms, the number of points and standards, and the
    halo term of the aperture corrections (:func:`astropipe.photometry.aperture_correction.halo_term`)."""
    rows = []
    for band, fit in calibration["bands"].items():
        rows.append(
            {
                "night": calibration["night"],
                "band": band,
                "colour_term": fit["colour_term"],
                "colour_term_err": fit["colour_term_err"],
                "zero_point_mag": fit["zero_point_mag"],
                "zero_point_err_mag": fit["zero_point_err_mag"],
                "extinction_mag_per_airmass": fit["extinction_mag_per_airmass"],
                "extinction_fitted": fit["extinction_fitted"],
                "rms_mag": fit["rms_mag"],
                "n_points": fit["n_points"],
                "n_standards": fit["n_standards"],
                "halo_term_mag": fit["halo_term_mag"],
                "halo_term_err_mag": fit["halo_term_err_mag"],
            }
        )
    formats = {
        "colour_term": ".4f",
        "colour_term_err": ".4f",
        "zero_point_mag": ".4f",
        "zero_point_err_mag": ".4f",
        "extinction_mag_per_airmass": ".3f",
        "rms_mag": ".4f",
        "halo_term_mag": ".4f",
        "halo_term_err_mag": ".4f",
    }
    return _table(rows, formats)


def classification_table(classification: Table) -> Table:
    """The survey's ``classification.ecsv`` reduced to what a reader scans: field, l, b, class, the true
    class where the field was simulated, and the evidence sentence."""
    names = [name for name in ("field", "l", "b", "class", "true_class", "evidence") if name in classification.colnames]
    table = Table(classification[names], copy=True)
    for name in ("l", "b"):
        table[name] = np.round(np.asarray(table[name], float), 3)
    return table
