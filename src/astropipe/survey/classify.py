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

import numpy as np
from astropy.table import Table

__all__ = ["CLASSES", "classify", "confusion_matrix"]

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
        return "embedded_cluster", (f"nebulosity {nebula:.1f} sigma/px, overdensity {significance:.1f} sigma, "
                                    f"star-count deficit {deficit:.1f} sigma")  # fmt: skip
    if np.isfinite(light_p) and light_p <= thresholds["light_p"] and faint_significance < thresholds["significance"]:
        return "bright_star_blend", (f"central light brighter than {1 - light_p:.1%} of random apertures "
                                     f"({bright:.1f} extra bright stars), faint stars {faint_significance:.1f} sigma")  # fmt: skip
    if concentrated:
        return "dissolving_cluster", f"overdensity {significance:.1f} sigma without gas/dust (nebulosity {nebula:.1f})"
    return "field", f"overdensity {significance:.1f} sigma, nebulosity {nebula:.1f}, central light p = {light_p:.2f}"


def confusion_matrix(truth: list[str], predicted: list[str]) -> Table:
    """Rows: true class; columns: predicted class (counts)."""
    table = Table({"true_class": list(CLASSES)})
    for name in CLASSES:
        table[name] = [sum(1 for t, p in zip(truth, predicted, strict=True) if t == row and p == name) for row in CLASSES]
    return table
