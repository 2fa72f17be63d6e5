"""Gas and dust indicators: nebulosity and central light concentration (astropipe.survey.indicators)."""

import numpy as np
import pytest

from astropipe.survey.indicators import light_concentration, nebulosity, star_mask

SCALE = 0.5  # arcsec per pixel


SHAPE = (600, 600)


CENTRE = (300.0, 300.0)


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
