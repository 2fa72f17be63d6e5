"""Mixture-model membership: a cluster drawn from the model itself, in a field unlike it, is recovered."""

import numpy as np
import pytest

from astropipe.cmd.mixture import MixtureMembership, fit_mixture_membership

LIMIT_H, LIMIT_K, RADIUS = 17.0, 16.5, 43.5


def _field(rng, n):
    """A bulge-like red ridge (H - K = 0.9 +- 0.06) and a blue disc (0.3 +- 0.1), H rising to the limit."""
    h = 17.5 - rng.exponential(1.5, n)
    hk = np.where(rng.random(n) < 0.8, rng.normal(0.9, 0.06, n), rng.normal(0.3, 0.1, n))
    return h, hk


def _cluster(rng, n, mu=1.15, w=0.35, alpha=0.3, core=10.0):
    """The model's members: uniform colour band, 10^(alpha H) between H = 11 and 18, truncated King radii."""
    u = rng.random(n)
    h = np.log10(10 ** (alpha * 11.0) + u * (10 ** (alpha * 18.0) - 10 ** (alpha * 11.0))) / alpha
    hk = rng.uniform(mu - w, mu + w, n) + rng.normal(0.0, 0.03, n)
    radius = core * np.sqrt(np.expm1(rng.random(n) * np.log1p((40.0 / core) ** 2)))
    return h, hk, radius


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(2003)
    field_in_object = _field(rng, 900)
    members = _cluster(rng, 150)
    h = np.concatenate([members[0], field_in_object[0]])
    hk = np.concatenate([members[1], field_in_object[1]])
    radius = np.concatenate([members[2], RADIUS * np.sqrt(rng.random(900))])
    is_member = np.arange(h.size) < 150
    field_h, field_hk = _field(rng, 1400)
    fit = fit_mixture_membership(h, hk, radius, np.full(h.size, 0.03), field_h, field_hk, LIMIT_H, LIMIT_K, RADIUS)
    above = (h < LIMIT_H) & (h - hk < LIMIT_K)
    return fit, is_member, above


def test_parameters_are_recovered(fitted):
    fit, is_member, above = fitted
    n_true = int((is_member & above).sum())
    assert fit.n_members == pytest.approx(n_true, abs=3 * np.sqrt(n_true))
    assert fit.colour_centre == pytest.approx(1.15, abs=0.05)
    assert fit.colour_halfwidth == pytest.approx(0.35, abs=0.05)
    assert fit.core_radius == pytest.approx(10.0, rel=0.4)


def test_probabilities_are_calibrated_and_rank_the_members(fitted):
    fit, is_member, above = fitted
    p = fit.probability
    assert np.all(np.isnan(p[~above])) and np.all((p[above] >= 0) & (p[above] <= 1))
    assert np.nansum(p) == pytest.approx(fit.n_members, rel=1e-4)  # at the maximum they sum to eta x N
    for low, high in ((0.0, 0.2), (0.8, 1.01)):  # calibrated: the members' share in a bin matches its mean p
        in_bin = above & (p >= low) & (p < high)
        assert is_member[in_bin].mean() == pytest.approx(p[in_bin].mean(), abs=0.1)
    threshold = fit.threshold_for_completeness(0.8)
    kept = above & (p >= threshold)
    # the kept stars hold 80 % of the summed probability, and as many true members as their probabilities say
    assert p[kept].sum() / np.nansum(p) == pytest.approx(0.8, abs=0.02)
    assert abs(is_member[kept].sum() - p[kept].sum()) < 3 * np.sqrt(np.sum(p[kept] * (1 - p[kept])))
    assert (~kept[~is_member & above]).mean() >= 0.9


def test_threshold_for_completeness_holds_that_share_of_the_summed_probability():
    fit = MixtureMembership(np.array([0.9, 0.5, 0.4, 0.1, 0.1, np.nan]), 2.0, 1.1, 0.35, 0.3, 10.0, 0.0)
    # sorted 0.9, 0.5, 0.4, 0.1, 0.1 (sum 2.0): 0.9 alone holds 45 %, with 0.5 70 %, with 0.4 90 %
    assert fit.threshold_for_completeness(0.45) == 0.9
    assert fit.threshold_for_completeness(0.8) == 0.4


def test_too_few_stars_are_refused():
    with pytest.raises(ValueError, match="needs >= 20 object and field stars"):
        fit_mixture_membership(np.full(5, 12.0), np.full(5, 1.0), np.ones(5), np.full(5, 0.03), np.full(50, 12.0),
                               np.full(50, 0.9), LIMIT_H, LIMIT_K, RADIUS)  # fmt: skip
