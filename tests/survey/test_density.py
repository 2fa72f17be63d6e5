"""Star counts around a candidate: King profile and overdensity (astropipe.survey.density)."""

import numpy as np
import pytest

from astropipe.survey.density import fit_king, overdensity, radial_profile, ring_areas

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
