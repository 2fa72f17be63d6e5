"""An objective class for each candidate field (Dutra et al. 2003, §2 did it by eye).

The decision, in order (thresholds in ``imaging.survey.classification``):

1. ``embedded_cluster``: extended emission (nebulosity above its threshold)
   together with a stellar overdensity or a significant star-count deficit
   (a dark cloud) around the candidate - a young cluster still in its gas and dust;
2. ``bright_star_blend``: light concentrated on the candidate (its small
   aperture brighter than all but a fraction ``light_p`` of random apertures
   in the same image) while the fainter stars show no significant
   overdensity - a few bright stars that the 2MASS images merged into an
   apparent cluster;
3. ``dissolving_cluster``: a significant overdensity of (fainter) stars without
   gas or dust - a concentration that is not embedded;
4. ``field``: none of these.
"""

from __future__ import annotations

import logging

import numpy as np
from astropy.table import Table

__all__ = ["CLASSES", "classify", "classify_fields", "confusion_matrix"]

CLASSES = ("embedded_cluster", "dissolving_cluster", "bright_star_blend", "field")


def classify(metrics: dict, thresholds: dict) -> tuple[str, str]:
    """(class, the evidence in words) from one field's metrics."""
    nebula = metrics["nebulosity_snr"]
    significance = metrics["overdensity_significance"]
    faint_significance = metrics["faint_overdensity_significance"]
    deficit = metrics["count_deficit_sigma"]
    light_p = metrics["light_concentration_p"]
    bright = metrics["bright_excess"]
    embedded = np.isfinite(nebula) and nebula >= thresholds["nebulosity_snr"]
    concentrated = significance >= thresholds["significance"]
    dark = np.isfinite(deficit) and deficit >= thresholds["significance"]
    if embedded and (concentrated or dark):
        return "embedded_cluster", (
            f"nebulosity {nebula:.1f} sigma/px, overdensity {significance:.1f} sigma, "
            f"star-count deficit {deficit:.1f} sigma"
        )
    if np.isfinite(light_p) and light_p <= thresholds["light_p"] and faint_significance < thresholds["significance"]:
        return "bright_star_blend", (
            f"central light brighter than {1 - light_p:.1%} of random apertures "
            f"({bright:.1f} extra bright stars), faint stars {faint_significance:.1f} sigma"
        )
    if concentrated:
        return "dissolving_cluster", f"overdensity {significance:.1f} sigma without gas/dust (nebulosity {nebula:.1f})"
    return "field", f"overdensity {significance:.1f} sigma, nebulosity {nebula:.1f}, central light p = {light_p:.3f}"


def confusion_matrix(truth: list[str], predicted: list[str]) -> Table:
    """Rows: true class; columns: predicted class (counts)."""
    table = Table({"true_class": list(CLASSES)})
    for name in CLASSES:
        table[name] = [
            sum(1 for t, p in zip(truth, predicted, strict=True) if t == row and p == name) for row in CLASSES
        ]
    return table


def classify_fields(
    metrics: list[dict], thresholds: dict, labels: Table | None = None, log: logging.Logger | None = None
) -> tuple[Table, dict, Table | None]:
    """Classify every survey field and, given the true classes, compare.

    Parameters
    ----------
    metrics : list of dict
        ``metrics.json`` of each field (:func:`astropipe.survey.field_metrics.measure_field`).
    thresholds : dict
        ``imaging.survey_analysis.classification``.
    labels : astropy.table.Table, optional
        True classes (``field``, ``class``) of simulated fields.
    log : logging.Logger, optional

    Returns
    -------
    table : astropy.table.Table
        One row per field: position, class, the indicators it was decided on, the evidence (and
        ``true_class`` with labels).
    summary : dict
        Number of fields, thresholds, counts per class (and with labels the agreement and the confusion matrix).
    matrix : astropy.table.Table or None
        The confusion matrix (with labels).
    """
    log = log or logging.getLogger(__name__)
    rows = []
    for field in metrics:
        name, evidence = classify(field, thresholds)
        rows.append(
            {
                "field": field["field"],
                "l": field["l"],
                "b": field["b"],
                "class": name,
                "overdensity_sigma": field["overdensity_significance"],
                "faint_overdensity_sigma": field["faint_overdensity_significance"],
                "bright_excess": field["bright_excess"],
                "light_concentration_p": field["light_concentration_p"],
                "ring_density_ratio": field["count_ratio_ring"],
                "count_deficit_sigma": field["count_deficit_sigma"],
                "nebulosity_snr": field["nebulosity_snr"],
                "king_core_arcsec": field["king"]["core_radius"],
                "evidence": evidence,
            }
        )
        log.info("%s: %s (%s)", field["field"], name, evidence)
    table = Table(rows=rows)
    table["l"].unit = table["b"].unit = "deg"
    table["king_core_arcsec"].unit = "arcsec"
    summary = {
        "n_fields": len(table),
        "thresholds": thresholds,
        "counts": {c: int(np.sum(table["class"] == c)) for c in sorted(set(table["class"]))},
    }
    if labels is None:
        return table, summary, None
    truth = dict(zip(labels["field"], labels["class"], strict=True))
    table["true_class"] = [truth[f] for f in table["field"]]
    matrix = confusion_matrix(list(table["true_class"]), list(table["class"]))
    agreement = float(np.mean(table["true_class"] == table["class"]))
    summary.update(
        {
            "agreement": agreement,
            "confusion_matrix": {r["true_class"]: {c: int(r[c]) for c in matrix.colnames[1:]} for r in matrix},
        }
    )
    log.info("agreement with the truth: %.0f %% of %d fields", 100 * agreement, len(table))
    return table, summary, matrix
