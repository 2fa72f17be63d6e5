"""The colour-error distribution the artificial stars measure (astropipe.cmd.artificial_star_response)."""

import numpy as np
import pytest
from astropy.table import Table
from scipy.special import ndtr

from astropipe.cmd.artificial_star_response import colour_error_distribution


def _artificial_stars(rng, n, errors):
    """Injected stars at instrumental -12 ... -6 (calibrated 10 ... 16 with offset 22), 10 % lost, errors drawn by ``errors``."""
    mag_in = rng.uniform(-12.0, -6.0, n)
    return Table({"mag_in": mag_in, "mag_out": mag_in + errors(rng, n), "recovered": rng.random(n) > 0.1})


def test_colour_error_distribution_is_the_convolution_of_the_two_bands():
    rng = np.random.default_rng(5)
    injected_h = _artificial_stars(rng, 20000, lambda rng, n: rng.normal(0.02, 0.05, n))  # biased 0.02 faint
    tail = lambda rng, n: np.where(rng.random(n) < 0.2, rng.normal(0.0, 0.5, n), rng.normal(0.0, 0.1, n))  # noqa: E731
    injected_k = _artificial_stars(rng, 20000, tail)
    errors = colour_error_distribution(injected_h, 22.0, injected_k, 21.0, (10.0, 16.0), (9.0, 15.0))
    delta = np.linspace(-1.0, 1.0, 81)
    # H - K error = dH - dK: N(0.02, 0.05) minus 0.8 N(0, 0.1) + 0.2 N(0, 0.5), smoothed by 0.02
    expected = 0.8 * ndtr((delta - 0.02) / np.sqrt(0.05**2 + 0.1**2 + 0.02**2)) + 0.2 * ndtr(
        (delta - 0.02) / np.sqrt(0.05**2 + 0.5**2 + 0.02**2)
    )
    for h, k in ((12.0, 11.0), (15.5, 14.0)):
        measured = errors(delta, np.full(delta.size, h), np.full(delta.size, k))
        assert np.max(np.abs(measured - expected)) < 0.02  # sampling noise 0.01; half a tabulation step off: 0.02-0.03
    assert errors(np.array([-5.0, 5.0]), np.array([12.0, 12.0]), np.array([11.0, 11.0])) == pytest.approx([0.0, 1.0])
    # the 16-84 % half-width lies between the core's sigma (0.115) and the whole distribution's (0.16)
    assert 0.115 < errors.halfwidth_68(12.0, 11.0) < 0.16


def test_colour_error_distribution_takes_the_nearest_stars_where_a_bin_is_sparse():
    rng = np.random.default_rng(6)
    bright = Table(
        {"mag_in": np.full(30, -11.0), "mag_out": -11.0 + rng.normal(0.0, 0.01, 30), "recovered": np.ones(30, bool)}
    )
    faint = Table(
        {"mag_in": np.full(30, -7.0), "mag_out": -7.0 + rng.normal(0.0, 0.3, 30), "recovered": np.ones(30, bool)}
    )
    both = Table(np.concatenate([bright.as_array(), faint.as_array()]))
    errors = colour_error_distribution(both, 22.0, bright, 22.0, (10.0, 16.0), (10.0, 12.0))
    # no artificial star near H = 12.5 or 14: the 20 nearest are used, at H = 11 and at H = 15 respectively
    assert errors.halfwidth_68(12.5, 11.0) < 0.05 and errors.halfwidth_68(14.0, 11.0) > 0.15
    with pytest.raises(ValueError, match=r"few\.ecsv: 10 recovered artificial stars"):
        colour_error_distribution(both, 22.0, bright[:10], 22.0, (10.0, 16.0), (10.0, 12.0), paths=("H", "few.ecsv"))
