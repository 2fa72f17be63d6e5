"""Density profiles, King fits, overdensity significance, nebulosity and the decision rules on known inputs."""

import numpy as np
import pytest
from astropy.table import Table

from astropipe.survey.classify import CLASSES, classify, classify_fields, confusion_matrix
from astropipe.survey.density import fit_king, overdensity, radial_profile, ring_areas
from astropipe.survey.indicators import light_concentration, nebulosity, star_mask

SCALE = 0.5  # arcsec per pixel
SHAPE = (600, 600)
CENTRE = (300.0, 300.0)
EDGES = np.array([0, 5, 10, 15, 20, 30, 40, 50, 60, 75, 90, 110, 140], float)


def _field(rng, background=60.0, central=0.0, core=8.0):
    """Star radii (arcsec) of a uniform background (stars/arcmin^2) plus a King cluster of central density."""
    half = SHAPE[0] * SCALE / 2
    n_bg = rng.poisson(background * (2 * half / 60) ** 2)
    x, y = rng.uniform(-half, half, n_bg), rng.uniform(-half, half, n_bg)
    radii = [np.hypot(x, y)]
    if central > 0:
        # King surface density ~ 1/(1 + (r/rc)^2) out to 140": inverse-transform sampling of r
        r_max = 140.0
        n_cl = rng.poisson(central * np.pi * core**2 * np.log(1 + (r_max / core) ** 2) / 3600)
        u = rng.random(n_cl)
        radii.append(core * np.sqrt((1 + (r_max / core) ** 2) ** u - 1))
    return np.concatenate(radii)


def test_king_fit_recovers_the_injected_profile():
    rng = np.random.default_rng(0)
    usable = np.ones(SHAPE, dtype=bool)
    areas = ring_areas(usable, CENTRE, SCALE, EDGES)
    np.testing.assert_allclose(areas.sum(), np.pi * 140**2 / 3600, rtol=0.01)
    fitted = [fit_king(radial_profile(_field(rng, 60.0, 400.0, 8.0), areas, EDGES)) for _ in range(20)]
    background = np.median([f.background for f in fitted])
    core = np.median([f.core_radius for f in fitted])
    assert background == pytest.approx(60.0, rel=0.1)
    assert core == pytest.approx(8.0, rel=0.25)


def test_overdensity_significance_is_gaussian_for_a_uniform_field():
    rng = np.random.default_rng(1)
    inner_area = np.pi * 30**2 / 3600
    ring_area = np.pi * (140**2 - 90**2) / 3600
    values = []
    for _ in range(300):
        r = _field(rng, 60.0)
        n_bg = np.sum((r >= 90) & (r < 140))
        values.append(overdensity(r, inner_area, 30.0, n_bg / ring_area, n_bg).significance)
    assert abs(np.mean(values)) < 0.2
    assert np.std(values) == pytest.approx(1.0, abs=0.15)
    r = _field(rng, 60.0, 300.0, 8.0)
    n_bg = np.sum((r >= 90) & (r < 140))
    assert overdensity(r, inner_area, 30.0, n_bg / ring_area, n_bg).significance > 5


def test_nebulosity_measures_an_extended_excess_in_noise_units():
    rng = np.random.default_rng(2)
    image = rng.normal(0.0, 10.0, SHAPE)
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    radius = np.hypot(xx - CENTRE[0], yy - CENTRE[1]) * SCALE
    stars = star_mask(SHAPE, np.array([300.0, 100.0]), np.array([300.0, 100.0]), 5.0)
    assert stars[300, 300] and stars[100, 104] and not stars[100, 106]
    usable = np.ones(SHAPE, dtype=bool)
    flat, _ = nebulosity(image, usable, stars, radius, 30.0, (90.0, 140.0))
    assert abs(flat) < 0.1
    nebula = image + 5.0 * np.exp(-0.5 * (radius / 25.0) ** 2)
    snr, level = nebulosity(nebula, usable, stars, radius, 30.0, (90.0, 140.0))
    assert snr == pytest.approx(level / 10.0, rel=0.1) and 0.3 < snr < 0.5


def test_light_concentration_p_value():
    rng = np.random.default_rng(3)
    image = rng.normal(0.0, 1.0, SHAPE)
    usable = np.ones(SHAPE, dtype=bool)
    flux, p = light_concentration(image, usable, CENTRE, 6.0, np.random.default_rng(0))
    assert 0.02 < p < 0.98  # an ordinary position
    image[297:304, 297:304] += 50.0  # a bright compact source on the candidate
    flux, p = light_concentration(image, usable, CENTRE, 6.0, np.random.default_rng(0))
    assert p == 0.0 and flux > 2000


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
