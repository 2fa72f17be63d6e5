"""validation/object11_limits.py: its operating-point arithmetic against closed forms, and the nights it reads."""

import importlib.util
import re
import sys

import numpy as np
import pytest
from astropy.table import Table
from conftest import REPO
from scipy.stats import norm

spec = importlib.util.spec_from_file_location("object11_limits", REPO / "validation" / "object11_limits.py")
limits = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = limits  # its dataclasses look their module up there
spec.loader.exec_module(limits)


@pytest.mark.parametrize("separation", [0.5, 1.5, 3.0])
def test_kept_at_removal_matches_two_gaussians(separation):
    """Members ~ N(s, 1), field ~ N(0, 1): removing 80 % of the field keeps 1 - Phi(z_0.8 - s) of the members."""
    rng = np.random.default_rng(8)
    score = np.concatenate([rng.normal(separation, 1.0, 100_000), rng.normal(0.0, 1.0, 100_000)])
    member = np.arange(score.size) < 100_000
    expected = 1.0 - norm.cdf(norm.ppf(0.8) - separation)
    assert limits.kept_at_removal(score, member, 0.8) == pytest.approx(expected, abs=0.005)


def test_measurement_errors_are_drawn_from_stars_of_similar_magnitude():
    """Errors grow with H in the pool; a bright star must get a bright star's error, a faint star a faint one's."""
    true_h = np.concatenate([np.full(500, 12.2), np.full(500, 16.2)])
    night = limits.Night(
        h=true_h + np.where(true_h < 14, 0.01, 0.3) * np.random.default_rng(1).standard_normal(true_h.size),
        hk=np.zeros(true_h.size),
        radius=np.zeros(true_h.size),
        probability=np.zeros(true_h.size),
        mixture_probability=np.zeros(true_h.size),
        mixture_threshold=0.5,
        member=np.zeros(true_h.size, bool),
        limit_h=17.0,
        limit_k=16.5,
        true_h=true_h,
        true_hk=np.zeros(true_h.size),
        from_reference=np.zeros(true_h.size, bool),
        red_sequence_boundary_hk=0.5,
        field_h=np.zeros(0),
        field_hk=np.zeros(0),
    )
    errors = limits.MeasurementErrors.from_nights([night])
    rng = np.random.default_rng(2)
    bright, _ = errors.add(rng, np.full(2000, 12.3), np.zeros(2000))
    faint, _ = errors.add(rng, np.full(2000, 16.3), np.zeros(2000))
    assert np.std(bright - 12.3) == pytest.approx(0.01, rel=0.15)
    assert np.std(faint - 16.3) == pytest.approx(0.3, rel=0.15)
    # without the tails beyond 0.15 mag the faint stars' errors are the Gaussian's core; the bright ones unchanged
    core = errors.without_tails(0.15)
    assert core.d_h.size == np.sum(np.abs(errors.d_h) <= 0.15) < errors.d_h.size
    faint_core, _ = core.add(rng, np.full(2000, 16.3), np.zeros(2000))
    assert np.max(np.abs(faint_core - 16.3)) <= 0.15 and np.std(faint_core - 16.3) < 0.1
    bright_core, _ = core.add(rng, np.full(2000, 12.3), np.zeros(2000))
    assert np.std(bright_core - 12.3) == pytest.approx(0.01, rel=0.15)


def test_posterior_k10_is_the_expected_tenth_member():
    k = np.arange(30.0)[::-1]  # faintest first: the order must not matter
    assert limits.posterior_k10(k, np.ones(30)) == 9.0  # certain members: the tenth brightest
    assert limits.posterior_k10(k, np.full(30, 0.5)) == 19.0  # half members: ten expected by the twentieth
    assert np.isnan(limits.posterior_k10(k, np.full(30, 0.3)))  # nine expected in all: no tenth member


def test_by_default_it_reads_the_nights_make_validate_runs_and_names_missing_ones(tmp_path, monkeypatch):
    """`make validate` runs object11_nights.py then this script, both with their default seeds."""
    monkeypatch.setattr(limits, "OUT", tmp_path)
    monkeypatch.setattr(sys, "argv", ["object11_limits.py"])
    nights = limits.validation_nights()
    held_out = [*nights.HELD_OUT_SEEDS, *nights.FRESH_SEEDS]
    with pytest.raises(SystemExit, match=re.escape(f"--seeds {' '.join(map(str, held_out))}")):
        limits.main()


def _classifier_with_field(field_k: np.ndarray, field_hk: np.ndarray, scenes: int):
    """An ideal classifier whose field is the given stars over ``scenes`` object areas (no populations drawn);
    the cluster's King core 10 arcsec, truncated at 40, in an object area of 43.5 arcsec (the defaults')."""
    classifier = object.__new__(limits.IdealClassifier)
    classifier.field = Table({"H": field_k + field_hk, "K": field_k, "HK": field_hk})
    classifier.field_scenes, classifier.core, classifier.truncation, classifier.radius = scenes, 10.0, 40.0, 43.5
    return classifier


def test_counting_k10_subtracts_the_fields_mean_number():
    """Red stars at K = 1, 2, ..., 30 and a field of two red stars per magnitude over four object areas (half a star
    brighter than each K per area): the excess reaches ten at the twentieth star. Blue and faint stars do not count."""
    field_k = np.repeat(np.arange(1.0, 31.0), 2)
    classifier = _classifier_with_field(
        np.concatenate([field_k, [0.1, 0.2]]), np.concatenate([np.ones(60), [0.2, 0.2]]), scenes=4
    )
    k = np.concatenate([np.arange(30.0, 0.0, -1.0), [0.5]])  # faintest first: the order must not matter
    hk = np.concatenate([np.ones(30), [0.2]])  # the blue star is not counted
    k_red, excess = classifier.red_excess(k, hk, np.full(31, 5.0), 0.5, (99.0, 99.0), weighted=False)
    assert np.array_equal(k_red, np.arange(1.0, 31.0)) and np.allclose(excess, np.arange(1, 31) / 2.0)
    assert limits.first_reaching_ten(k_red, excess) == 20.0
    assert np.isnan(limits.first_reaching_ten(k_red[:19], excess[:19]))
    _, faint_limit = classifier.red_excess(k, hk, np.full(31, 5.0), 0.5, (99.0, 10.5), weighted=False)
    assert np.allclose(faint_limit[9:], np.arange(10, 31) - 5.0)  # only the field's 20 stars with K < 10.5 count


def test_profile_weighted_count_is_the_members_number_whatever_the_field():
    """Members drawn from the King profile and a uniform field of four times as many: the weighted count minus the
    field's mean number has the members' number as its mean (the matched filter is unbiased)."""
    rng = np.random.default_rng(3)
    n_members, n_field, trials = 50, 200, 400
    classifier = _classifier_with_field(np.zeros(n_field * 100), np.ones(n_field * 100), scenes=100)
    totals = []
    for _ in range(trials):
        members = 10.0 * np.sqrt(np.expm1(rng.random(n_members) * np.log1p((40.0 / 10.0) ** 2)))
        field = 43.5 * np.sqrt(rng.random(n_field))
        radius = np.concatenate([members, field])
        _, excess = classifier.red_excess(
            np.zeros(radius.size), np.ones(radius.size), radius, 0.5, (99.0, 99.0), weighted=True
        )
        totals.append(excess[-1])
    assert np.mean(totals) == pytest.approx(n_members, abs=3.0 * np.std(totals) / np.sqrt(trials))
    # the weights gain over the plain count's Poisson error, sqrt(n_members + n_field)
    assert np.std(totals) < np.sqrt(n_members + n_field)


def test_odds_with_exact_field_rank_as_the_posterior_with_the_exact_field():
    """A mixture's probabilities m / (m + f_region) with a noisy field density: replacing f_region by the exact f
    ranks the stars as m / (m + f) does, and differently from the noisy probabilities."""
    rng = np.random.default_rng(5)
    member, exact = rng.lognormal(0.0, 1.0, 500), rng.lognormal(0.0, 1.0, 500)
    region = exact * rng.lognormal(0.0, 0.5, 500)  # the field region's noisy estimate
    noisy = member / (member + region)
    odds = limits.odds_with_exact_field(noisy, 3.0 * region, exact)  # a constant factor must not matter
    assert np.array_equal(np.argsort(odds), np.argsort(member / (member + exact)))
    assert not np.array_equal(np.argsort(noisy), np.argsort(member / (member + exact)))
