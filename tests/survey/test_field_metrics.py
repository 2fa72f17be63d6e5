"""The indicators measured on one candidate field (astropipe.survey.field_metrics), against fields built
with a known content: a uniform field, a King cluster at the centre, a dark cloud emptying the centre."""

import numpy as np
import pytest
from astropy.table import Table
from conftest import REPO
from snakemake.utils import validate

from astropipe.survey.field_metrics import approximate_k, measure_field

SIZE, SCALE = 600, 0.5  # px, arcsec/px: a 300" field
CALIBRATION = {"zero_point_mag": 22.0, "extinction_mag_per_airmass": 0.05}


def _settings() -> dict:
    config: dict = {}
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    return config["imaging"]["survey_analysis"]


def _field(rng, n_background=3000, n_cluster=0, hole_radius_arcsec=0.0) -> tuple[np.ndarray, Table]:
    x, y = rng.uniform(0, SIZE - 1, (2, n_background))
    if hole_radius_arcsec:
        outside = np.hypot(x - SIZE / 2, y - SIZE / 2) * SCALE > hole_radius_arcsec
        x, y = x[outside], y[outside]
    # King (1962) surface density 1 / (1 + (r/r_c)^2) out to 8 r_c, r_c = 10": N(<r) ~ ln(1 + (r/r_c)^2)
    core_px = 10.0 / SCALE
    radius = core_px * np.sqrt(np.expm1(rng.uniform(0, 1, n_cluster) * np.log1p(8.0**2)))
    angle = rng.uniform(0, 2 * np.pi, n_cluster)
    x = np.r_[x, SIZE / 2 + radius * np.cos(angle)]
    y = np.r_[y, SIZE / 2 + radius * np.sin(angle)]
    k = rng.uniform(11.0, 17.0, x.size)
    catalog = Table({"x": x, "y": y, "mag_inst": k - 22.0 + 0.05, "flags": np.zeros(x.size, int)})
    catalog.meta.update({"airmass": 1.0, "aperture_correction_mag": 0.0, "fwhm_px": 3.0})
    image = rng.normal(0.0, 1.0, (SIZE, SIZE))
    return image, catalog


def _measure(image, catalog, rng):
    return measure_field(
        image, np.ones_like(image), catalog, (SIZE / 2, SIZE / 2), SCALE, CALIBRATION, _settings(), rng
    )


def test_the_approximate_k_adds_zero_point_extinction_aperture_correction_and_halo_term():
    catalog = Table({"mag_inst": [-10.0, -8.0]}, meta={"airmass": 1.5, "aperture_correction_mag": -0.1})
    np.testing.assert_allclose(
        approximate_k(catalog, CALIBRATION), [-10.0 + 22.0 - 0.075 - 0.1, -8.0 + 22.0 - 0.075 - 0.1]
    )
    with_halo = CALIBRATION | {"halo_term_mag": -0.03}
    np.testing.assert_allclose(approximate_k(catalog, with_halo), approximate_k(catalog, CALIBRATION) - 0.03)


def test_a_uniform_field_shows_no_overdensity_and_a_cluster_does():
    rng = np.random.default_rng(1)
    uniform = _measure(*_field(rng), rng)
    assert abs(uniform.overdensity.significance) < 3 and 0.7 < uniform.count_ratio_ring < 1.3
    cluster = _measure(*_field(rng, n_cluster=300), rng)
    assert cluster.overdensity.significance > 5
    assert cluster.king.core_radius == pytest.approx(10.0, abs=3 * cluster.king.core_radius_err)
    # densities in stars/arcmin^2: 3000 stars (80 % counted) over 25 arcmin^2
    assert uniform.background_density == pytest.approx(0.8 * 3000 / 25.0, rel=0.15)


def test_a_dark_cloud_empties_the_hole_ring():
    rng = np.random.default_rng(2)
    cloud = _measure(*_field(rng, hole_radius_arcsec=60.0), rng)
    assert cloud.count_ratio_ring < 0.2 and cloud.count_deficit_sigma > 5
    assert cloud.overdensity.significance < -5
