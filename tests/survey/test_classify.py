"""The objective classes of candidate fields (astropipe.survey.classify)."""

import pytest
from astropy.table import Table

from astropipe.survey.classify import CLASSES, classify, classify_fields, confusion_matrix

THRESHOLDS = {"significance": 3.0, "nebulosity_snr": 0.3, "light_p": 0.02}


def _metrics(nebula, over, faint, deficit, light_p):
    return {
        "nebulosity_snr": nebula,
        "overdensity_significance": over,
        "faint_overdensity_significance": faint,
        "count_deficit_sigma": deficit,
        "light_concentration_p": light_p,
        "bright_excess": 0.0,
    }


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        (_metrics(50.0, 1.0, 1.0, 5.0, 0.3), "embedded_cluster"),  # nebula + dark-cloud deficit
        (_metrics(50.0, 6.0, 6.0, 0.0, 0.3), "embedded_cluster"),  # nebula + overdensity
        (_metrics(0.0, 2.0, 1.0, 0.0, 0.0), "bright_star_blend"),
        (_metrics(0.0, 6.0, 6.0, 0.0, 0.0), "dissolving_cluster"),  # bright centre but a real cluster of faint stars
        (_metrics(0.05, 5.0, 4.0, 0.0, 0.4), "dissolving_cluster"),
        (_metrics(0.05, 1.0, 0.8, 0.0, 0.5), "field"),
        (_metrics(0.8, 1.0, 0.5, 0.5, 0.5), "field"),  # diffuse light alone is not a cluster
    ],
)
def test_decision_rules(metrics, expected):
    name, evidence = classify(metrics, THRESHOLDS)
    assert name == expected and evidence


def test_a_field_just_above_the_light_threshold_says_by_how_much():
    """A central light at p = 0.022 against the 2 % threshold is a field, and its evidence shows the 0.022 (at two
    decimals it read "p = 0.02", the threshold itself)."""
    name, evidence = classify(_metrics(0.0, 1.0, 0.5, 0.0, 0.022), THRESHOLDS)
    assert name == "field" and "central light p = 0.022" in evidence


def test_confusion_matrix_counts():
    truth = ["field", "field", "embedded_cluster", "bright_star_blend"]
    predicted = ["field", "dissolving_cluster", "embedded_cluster", "bright_star_blend"]
    matrix = confusion_matrix(truth, predicted)
    assert list(matrix["true_class"]) == list(CLASSES)
    row = matrix[list(matrix["true_class"]).index("field")]
    assert row["field"] == 1 and row["dissolving_cluster"] == 1
    assert sum(int(matrix[c].sum()) for c in CLASSES) == 4


def test_fields_are_classified_and_compared_with_their_true_classes():
    def field(name, *values):
        return _metrics(*values) | {
            "field": name,
            "l": 1.0,
            "b": -0.5,
            "count_ratio_ring": 1.0,
            "king": {"core_radius": 12.0},
        }

    metrics = [
        field("a", 50.0, 6.0, 6.0, 0.0, 0.3),
        field("b", 0.0, 6.0, 6.0, 0.0, 0.0),
        field("c", 0.05, 1.0, 0.8, 0.0, 0.5),
    ]
    table, summary, matrix = classify_fields(metrics, THRESHOLDS)
    assert list(table["class"]) == ["embedded_cluster", "dissolving_cluster", "field"] and matrix is None
    assert summary["counts"] == {"dissolving_cluster": 1, "embedded_cluster": 1, "field": 1}
    labels = Table({"field": ["c", "b", "a"], "class": ["field", "bright_star_blend", "embedded_cluster"]})
    table, summary, matrix = classify_fields(metrics, THRESHOLDS, labels)
    assert list(table["true_class"]) == ["embedded_cluster", "bright_star_blend", "field"]
    assert summary["agreement"] == pytest.approx(2 / 3)
    assert summary["confusion_matrix"]["bright_star_blend"]["dissolving_cluster"] == 1
