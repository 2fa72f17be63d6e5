"""An objective class for each candidate field (seed 000 §2 did it by eye).

The decision, in order (thresholds in ``imaging.survey.classification``):

1. ``embedded_cluster``: extended emission (nebulosity above its threshold)
   together with a stellar overdensity or a dark-cloud star-count deficit
   around the candidate - a young cluster still in its gas and dust;
2. ``bright_star_blend``: an excess of bright stars near the centre while the
   fainter stars show no significant overdensity - a few bright stars that the
   2MASS images merged into an apparent cluster;
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
    hole = metrics["count_ratio_ring"]
    bright = metrics["bright_excess"]
    embedded = np.isfinite(nebula) and nebula >= thresholds["nebulosity_snr"]
    concentrated = significance >= thresholds["significance"]
    dark = np.isfinite(hole) and hole <= thresholds["count_ratio_hole"]
    if embedded and (concentrated or dark):
        return "embedded_cluster", (f"nebulosity {nebula:.1f} sigma/px, overdensity {significance:.1f} sigma, "
                                    f"ring density ratio {hole:.2f}")  # fmt: skip
    if bright >= thresholds["bright_excess"] and faint_significance < thresholds["significance"]:
        return "bright_star_blend", f"{bright:.1f} extra bright stars, faint stars {faint_significance:.1f} sigma"
    if concentrated:
        return "dissolving_cluster", f"overdensity {significance:.1f} sigma without gas/dust (nebulosity {nebula:.1f})"
    return "field", f"overdensity {significance:.1f} sigma, nebulosity {nebula:.1f}, bright excess {bright:.1f}"


def confusion_matrix(truth: list[str], predicted: list[str]) -> Table:
    """Rows: true class; columns: predicted class (counts)."""
    table = Table({"true_class": list(CLASSES)})
    for name in CLASSES:
        table[name] = [sum(1 for t, p in zip(truth, predicted) if t == row and p == name) for row in CLASSES]
    return table
