"""Membership of the object-area stars (astropipe.cmd.membership): the ring-by-ring decontamination, the
tenth-brightest member per repeat and the probability check above the completeness limits."""

import logging

import numpy as np
from astropy.table import Table

from astropipe.cmd.membership import (
    decontaminate_rings,
    operating_threshold,
    probability_check_above_limits,
    tenth_brightest_per_repeat,
)
from astropipe.cmd.mixture import MixtureMembership
from astropipe.distance.tenth_brightest import tenth_brightest

SETTINGS = {
    "repeats": 20,
    "colour_weight": 7.0,
    "max_distance_mag": 0.5,
    "resample_field": False,
    "magnitude_axis": "magnitude",
}


def _stars(h, hk, radius=None) -> Table:
    h, hk = np.asarray(h, float), np.asarray(hk, float)
    table = Table({"H": h, "HK": hk, "K": h - hk})
    if radius is not None:
        table["radius"] = np.asarray(radius, float)
    return table


def test_each_ring_is_decontaminated_with_its_own_area_ratio():
    """The inner ring's CMD is a copy of the field at area ratio 1, so every star goes; the outer ring's stars
    are 3 mag redder than any field star, beyond the matching distance, so every star stays and each of its
    field draws is unmatched: the probabilities follow the rings, not the disc's average."""
    rng = np.random.default_rng(3)
    h, hk = rng.uniform(12.0, 16.0, 30), rng.uniform(0.5, 1.5, 30)
    field = _stars(h, hk)
    obj = _stars(np.r_[h, h], np.r_[hk, hk + 3.0], radius=np.r_[np.full(30, 5.0), np.full(30, 25.0)])
    annuli = [
        {"inner_arcsec": 0.0, "outer_arcsec": 10.0, "area_ratio": 1.0},
        {"inner_arcsec": 10.0, "outer_arcsec": 40.0, "area_ratio": 1.0},
    ]
    rings = decontaminate_rings(obj, field, annuli, SETTINGS, seed=5, log=logging.getLogger("test"))
    np.testing.assert_array_equal(rings.probability[:30], 0.0)
    np.testing.assert_array_equal(rings.probability[30:], 1.0)
    np.testing.assert_array_equal(rings.n_subtracted, 60)  # field draws over both rings
    np.testing.assert_array_equal(rings.n_unmatched, 30)  # the outer ring's
    assert rings.survivors.shape == (SETTINGS["repeats"], 60)


def test_the_tenth_brightest_of_each_repeat_is_a_red_survivor_and_bootstraps_the_object_stars():
    k = np.linspace(10.0, 14.0, 60)
    red = np.arange(60) % 3 != 0  # every third star is blue: never a cluster candidate
    survivors = np.ones((200, 60), dtype=bool)
    survivors[:, :5] = False  # the five brightest were removed as field stars in every repeat
    tenth = tenth_brightest_per_repeat(k, red, survivors, seed=11)
    candidates = set(k[5:][red[5:]].tolist())
    assert set(tenth.tolist()) <= candidates
    without_bootstrap = tenth_brightest(np.where(red & survivors[0], k, np.nan))
    # Poisson multiplicities scatter K10 around the plain value of the same survivors
    assert np.std(tenth) > 0 and abs(np.median(tenth) - without_bootstrap) < 0.3
    np.testing.assert_array_equal(tenth, tenth_brightest_per_repeat(k, red, survivors, seed=11))


def test_the_check_above_the_limits_counts_the_statistical_excess():
    obj = _stars([12.0, 13.0, 14.0, 17.0, 18.0], [1.0, 1.0, 1.0, 1.0, 1.0])
    field = _stars([12.5, 13.5, 16.9, 19.0], [1.0, 1.0, 1.0, 1.0])
    probability = np.array([1.0, 0.5, 0.25, 1.0, 1.0])
    check = probability_check_above_limits(obj, field, probability, limit_h=16.0, limit_k=15.5, area_ratio=0.5)
    # above both limits (H < 16, K < 15.5): three object stars, two field stars
    assert check == {
        "n_object": 3,
        "n_field": 2,
        "statistical_excess": 2.0,
        "statistical_excess_err": float(np.sqrt(3 + 0.25 * 2)),
        "sum_probability": 1.75,
    }


def test_the_mixtures_operating_point_is_the_configured_one():
    fit = MixtureMembership(
        np.array([0.9, 0.5, 0.4, 0.1, 0.1]),
        *(2.0, 1.1, 0.35, 0.3, 10.0, 0.0),
        field_region_probability=np.array([[0.05, 0.3, 0.6, 0.02, 0.2, 0.1]]),
    )
    settings = {"mixture_completeness": 0.8, "mixture_field_removal": 0.6}
    for point, threshold in (("balanced", 0.5), ("completeness", 0.4), ("field_removal", 0.3)):
        assert operating_threshold(fit, settings | {"mixture_operating_point": point}) == threshold
