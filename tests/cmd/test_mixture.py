"""Mixture-model membership: a cluster drawn from the model itself, in a field unlike it, is recovered."""

import numpy as np
import pytest
from scipy.special import ndtr

from astropipe.cmd.mixture import MixtureMembership, fit_mixture_membership
from astropipe.cmd.mixture_likelihood import FIELD_REGION_RADII, MAX_HALFWIDTH

LIMIT_H, LIMIT_K, RADIUS = 17.0, 16.5, 43.5


def _field(rng, n):
    """A bulge-like red ridge (H - K = 0.9 +- 0.06) and a blue disc (0.3 +- 0.1), H rising to the limit."""
    h = 17.5 - rng.exponential(1.5, n)
    hk = np.where(rng.random(n) < 0.8, rng.normal(0.9, 0.06, n), rng.normal(0.3, 0.1, n))
    return h, hk


def _gaussian_errors(sigma):
    """(H, K) -> F(delta) of a Gaussian H - K error of ``sigma`` mag at every magnitude."""
    return lambda h, k: lambda delta: ndtr(delta / sigma)


def _tailed_errors(core, tail, tail_fraction):
    """(H, K) -> F(delta) of a Gaussian core with a broad Gaussian tail (blends), at every magnitude."""
    return lambda h, k: lambda delta: (1.0 - tail_fraction) * ndtr(delta / core) + tail_fraction * ndtr(delta / tail)


def _cluster(rng, n, mu=1.15, w=0.35, alpha=0.3, core=10.0, errors=None):
    """The model's members: uniform colour band, 10^(alpha H) between H = 11 and 18, truncated King radii.

    ``errors``: a function (rng, n) -> H - K errors; Gaussian 0.03 mag by default.
    """
    u = rng.random(n)
    h = np.log10(10 ** (alpha * 11.0) + u * (10 ** (alpha * 18.0) - 10 ** (alpha * 11.0))) / alpha
    hk = rng.uniform(mu - w, mu + w, n) + (rng.normal(0.0, 0.03, n) if errors is None else errors(rng, n))
    radius = core * np.sqrt(np.expm1(rng.random(n) * np.log1p((40.0 / core) ** 2)))
    return h, hk, radius


def _object_area(rng, n_members, n_field, errors=None):
    """Members and field stars in the object area (H, H - K, radius, is_member), and a field region of 1400 stars."""
    field_in_object = _field(rng, n_field)
    members = _cluster(rng, n_members, errors=errors)
    h = np.concatenate([members[0], field_in_object[0]])
    hk = np.concatenate([members[1], field_in_object[1]])
    radius = np.concatenate([members[2], RADIUS * np.sqrt(rng.random(n_field))])
    return h, hk, radius, np.arange(h.size) < n_members, _field(rng, 1400)


@pytest.fixture(scope="module")
def fitted():
    h, hk, radius, is_member, (field_h, field_hk) = _object_area(np.random.default_rng(2003), 150, 900)
    fit = fit_mixture_membership(h, hk, radius, field_h, field_hk, LIMIT_H, LIMIT_K, RADIUS, _gaussian_errors(0.03))
    above = (h < LIMIT_H) & (h - hk < LIMIT_K)
    return fit, is_member, above


def test_parameters_are_recovered(fitted):
    fit, is_member, above = fitted
    n_true = int((is_member & above).sum())
    assert fit.n_members == pytest.approx(n_true, abs=3 * fit.n_members_err)
    # the count's error is the members' Poisson noise and more (the field stars under the band)
    assert np.sqrt(n_true) < fit.n_members_err < 3 * np.sqrt(n_true)
    assert fit.colour_centre == pytest.approx(1.15, abs=0.05)
    assert fit.colour_halfwidth == pytest.approx(0.35, abs=0.05)
    assert not fit.colour_band_at_bound and fit.as_dict()["colour_halfwidth_at_bound"] is False
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


def test_balanced_threshold_equalises_the_expected_completeness_and_field_removal():
    fit = MixtureMembership(np.array([0.9, 0.5, 0.4, 0.1, 0.1, np.nan]), 2.0, 1.1, 0.35, 0.3, 10.0, 0.0)
    # sum p 2.0, sum (1 - p) 3.0; keeping 0.9: 45 % / 97 %; with 0.5: 70 % / 80 %; with 0.4: 90 % / 60 %
    assert fit.expected_rates(0.9) == pytest.approx((0.45, 2.9 / 3))
    assert fit.expected_rates(0.4) == pytest.approx((0.9, 0.6))
    assert fit.threshold_balanced() == 0.5
    assert fit.expected_rates(0.5) == pytest.approx((0.7, 0.8))


def test_balanced_threshold_delivers_its_expected_rates(fitted):
    """On the model's own cluster the true kept and removed fractions match the expected ones (2 binomial sigma)."""
    fit, is_member, above = fitted
    threshold = fit.threshold_balanced()
    completeness, removal = fit.expected_rates(threshold)
    assert completeness == pytest.approx(removal, abs=0.02)
    kept = fit.probability >= threshold
    members, field = is_member & above, ~is_member & above
    assert kept[members].mean() == pytest.approx(
        completeness, abs=2 * np.sqrt(completeness * (1 - completeness) / members.sum())
    )
    assert (~kept[field]).mean() == pytest.approx(removal, abs=2 * np.sqrt(removal * (1 - removal) / field.sum()))


def test_members_in_a_tail_of_colour_errors_are_counted_with_the_true_error_distribution():
    """40 % of the members blended (H - K error 0.4 mag): with the true error distribution the most probable stars
    holding 80 % of the summed probability hold 80 % of the members; a core-only Gaussian (what the formal PSF
    errors describe) widens the band, under-counts the members and keeps too few of them."""

    def errors(rng, n):
        return np.where(rng.random(n) < 0.4, rng.normal(0.0, 0.4, n), rng.normal(0.0, 0.03, n))

    h, hk, radius, is_member, (field_h, field_hk) = _object_area(np.random.default_rng(7), 300, 900, errors)
    above = (h < LIMIT_H) & (h - hk < LIMIT_K)
    n_true = int((is_member & above).sum())
    promise = 0.8 - 2.0 * np.sqrt(0.8 * 0.2 / n_true)  # the target less two binomial sigma
    kept, counted = {}, {}
    for name, model in (("true", _tailed_errors(0.03, 0.4, 0.4)), ("core", _gaussian_errors(0.03))):
        fit = fit_mixture_membership(h, hk, radius, field_h, field_hk, LIMIT_H, LIMIT_K, RADIUS, model)
        kept[name] = (fit.probability[is_member & above] >= fit.threshold_for_completeness(0.8)).mean()
        counted[name] = fit.n_members
        print(f"{name} errors: {fit.n_members:.1f} members fitted ({n_true} true), {kept[name]:.0%} kept")
    assert kept["true"] >= promise and counted["true"] == pytest.approx(n_true, abs=2 * np.sqrt(n_true))
    assert kept["core"] < promise and counted["core"] < counted["true"] - np.sqrt(n_true)


def test_completeness_scales_the_member_density():
    """Members observed through a completeness falling to 0 at the H limit: the model told so recovers the luminosity
    function's slope, and the model left unaware measures a shallower one."""
    rng = np.random.default_rng(11)
    h, hk, radius, is_member, (field_h, field_hk) = _object_area(rng, 300, 900)
    completeness = lambda at_h, at_k: np.clip((LIMIT_H + 0.5 - at_h) / 2.5, 0.0, 1.0)  # noqa: E731
    detected = (rng.random(h.size) < completeness(h, h - hk)) | ~is_member
    h, hk, radius = h[detected], hk[detected], radius[detected]
    aware = fit_mixture_membership(
        h, hk, radius, field_h, field_hk, LIMIT_H, LIMIT_K, RADIUS, _gaussian_errors(0.03), completeness=completeness
    )
    unaware = fit_mixture_membership(h, hk, radius, field_h, field_hk, LIMIT_H, LIMIT_K, RADIUS, _gaussian_errors(0.03))
    print(f"LF slope (true 0.3): with the completeness {aware.lf_slope:.3f}, without {unaware.lf_slope:.3f}")
    assert aware.lf_slope == pytest.approx(0.3, abs=0.08)
    assert unaware.lf_slope < 0.25


def test_too_few_stars_are_refused():
    with pytest.raises(ValueError, match="needs >= 20 object and field stars"):
        fit_mixture_membership(
            np.full(5, 12.0),
            np.full(5, 1.0),
            np.ones(5),
            np.full(50, 12.0),
            np.full(50, 0.9),
            LIMIT_H,
            LIMIT_K,
            RADIUS,
            _gaussian_errors(0.03),
        )


def test_a_band_broader_than_the_bound_is_fitted_at_it_flagged_with_a_finite_count_error():
    """Members spread over +-0.8 mag in H - K (beyond the paper's spread): w stops at the bound, where the
    likelihood no longer turns over in w, and the fit says so; the member count still gets its error from
    the other parameters."""
    rng = np.random.default_rng(11)
    members = _cluster(rng, 150, mu=1.3, w=0.8)
    field = _field(rng, 900)
    h, hk = np.concatenate([members[0], field[0]]), np.concatenate([members[1], field[1]])
    radius = np.concatenate([members[2], RADIUS * np.sqrt(rng.random(900))])
    field_h, field_hk = _field(rng, 1400)
    fit = fit_mixture_membership(h, hk, radius, field_h, field_hk, LIMIT_H, LIMIT_K, RADIUS, _gaussian_errors(0.03))
    assert fit.colour_halfwidth == pytest.approx(MAX_HALFWIDTH, rel=1e-3)
    assert fit.colour_band_at_bound and fit.as_dict()["colour_halfwidth_at_bound"] is True
    above = (h < LIMIT_H) & (h - hk < LIMIT_K)
    n_true = int(above[:150].sum())
    assert np.isfinite(fit.n_members_err) and fit.n_members == pytest.approx(n_true, abs=3 * fit.n_members_err)


def test_a_star_neither_component_can_hold_is_named_not_fitted_around():
    """One object-area star at H - K = -1.5 (an H detection paired with a faint Ks one), far outside the
    field's CMD and any member band: its density is zero under every parameter, so the likelihood is zero at
    every start. The fit used to return a point near a start as its result (a band 0.15 mag wide at
    H - K = 0.74, log-likelihood -inf, on a simulated night measured with a trial photometry); now the star
    is named."""
    rng = np.random.default_rng(5)
    h, hk, radius, _, (field_h, field_hk) = _object_area(rng, 60, 300)
    h, hk, radius = np.append(h, 14.56), np.append(hk, -1.5), np.append(radius, 20.0)
    with pytest.raises(ValueError, match=r"1 object-area star\(s\) .* at \(H, H - K\) = \(14\.56, -1\.50\)"):
        fit_mixture_membership(h, hk, radius, field_h, field_hk, LIMIT_H, LIMIT_K, RADIUS, _gaussian_errors(0.03))


def _poisson_object_area(seed: int, n_members: int = 40, n_field: int = 500, n_region: int = 800):
    """A sparse cluster in an object area whose field stars are drawn like the field region's (no difference
    but Poisson noise); returns the fit's inputs, the true members above the limits and the area ratio."""
    rng = np.random.default_rng(seed)
    members = _cluster(rng, n_members)
    field_in_object = _field(rng, n_field)
    h, hk = np.concatenate([members[0], field_in_object[0]]), np.concatenate([members[1], field_in_object[1]])
    radius = np.concatenate([members[2], RADIUS * np.sqrt(rng.random(n_field))])
    field_h, field_hk = _field(rng, n_region)
    above = (h < LIMIT_H) & (h - hk < LIMIT_K)
    return (h, hk, radius, field_h, field_hk), int(above[:n_members].sum()), n_field / n_region


@pytest.mark.parametrize("seed", [1, 5])
def test_the_band_held_redward_of_the_valley_and_the_field_count_stop_poisson_noise_becoming_members(seed):
    """40 members (about 20 above the limits) among 500 field stars drawn like the field region's 800: on two of
    six such draws the band alone stretched to its bound, centred 0.8 mag (over the blue sequence and the red
    ridge), and counted twice the members. Held redward of the colour valley (0.6 mag, between the field's blue
    sequence at 0.3 and its ridge at 0.9) and with the field region's count, it finds the members' band."""
    stars, n_true, ratio = _poisson_object_area(seed)
    free = fit_mixture_membership(*stars, LIMIT_H, LIMIT_K, RADIUS, _gaussian_errors(0.05))
    held = fit_mixture_membership(
        *stars, LIMIT_H, LIMIT_K, RADIUS, _gaussian_errors(0.05), blue_edge=0.6, field_area_ratio=ratio
    )
    print(
        f"{n_true} true members; band alone {free.n_members:.1f} +- {free.n_members_err:.1f} at "
        f"{free.colour_centre:.2f} +- {free.colour_halfwidth:.2f}; held {held.n_members:.1f} +- {held.n_members_err:.1f} "
        f"at {held.colour_centre:.2f} +- {held.colour_halfwidth:.2f}"
    )
    assert free.colour_band_at_bound and free.n_members > n_true + 2 * free.n_members_err
    assert not held.colour_band_at_bound and held.colour_halfwidth_limit < MAX_HALFWIDTH
    assert held.n_members == pytest.approx(n_true, abs=2 * held.n_members_err)
    assert held.colour_centre == pytest.approx(1.15, abs=0.15)
    assert held.colour_centre - held.colour_halfwidth >= 0.6
    assert np.nansum(held.probability) == pytest.approx(held.n_members, rel=1e-3)  # still calibrated


def test_the_field_region_count_enters_as_an_on_off_measurement():
    """With the field region's count the fit maximises the extended likelihood, whose field-star count in the object
    area has the closed form of an on/off measurement (d ln L / d n_f = 0): n_f = r (sum(1 - p) + N_field) / (1 + r),
    the object area's own field stars and the field region's count weighted by their areas. Without the count, n_f
    is the object area's alone, sum(1 - p)."""
    stars, n_true, ratio = _poisson_object_area(3)
    field_h, field_hk = stars[3:]
    n_region = int(((field_h < LIMIT_H) & (field_h - field_hk < LIMIT_K)).sum())
    counted = fit_mixture_membership(
        *stars, LIMIT_H, LIMIT_K, RADIUS, _gaussian_errors(0.05), blue_edge=0.6, field_area_ratio=ratio
    )
    alone = fit_mixture_membership(*stars, LIMIT_H, LIMIT_K, RADIUS, _gaussian_errors(0.05), blue_edge=0.6)
    for fit in (counted, alone):
        assert np.nansum(fit.probability) == pytest.approx(fit.n_members, rel=1e-3)
    on_off = ratio * (np.nansum(1 - counted.probability) + n_region) / (1 + ratio)
    print(f"n_f {counted.n_field:.2f} (on/off {on_off:.2f}); without the count {alone.n_field:.2f}; {n_true} members")
    assert counted.n_field == pytest.approx(on_off, abs=0.01)
    assert alone.n_field == pytest.approx(np.nansum(1 - alone.probability), abs=0.01)
    assert abs(on_off - np.nansum(1 - counted.probability)) > 1  # a hundred times the tolerance: the two differ
    assert counted.n_members == pytest.approx(n_true, abs=2 * counted.n_members_err)


def test_a_valley_redder_than_every_star_or_a_bad_area_ratio_is_refused():
    stars, _, _ = _poisson_object_area(2)
    with pytest.raises(ValueError, match=r"colour valley \(blue_edge\) H - K = 3\.000 is redder than every"):
        fit_mixture_membership(*stars, LIMIT_H, LIMIT_K, RADIUS, _gaussian_errors(0.05), blue_edge=3.0)
    with pytest.raises(ValueError, match=r"field_area_ratio = 0\.0; expected A_object / A_field > 0"):
        fit_mixture_membership(*stars, LIMIT_H, LIMIT_K, RADIUS, _gaussian_errors(0.05), field_area_ratio=0.0)


def test_threshold_for_field_removal_removes_that_share_of_the_field_regions_stars():
    fit = MixtureMembership(
        np.array([0.9, 0.5, 0.1]),
        1.5,
        1.1,
        0.35,
        0.3,
        10.0,
        0.0,
        field_region_probability=np.array([[0.05, 0.3, 0.6], [0.1, 0.2, 0.02]]),
    )
    # sorted 0.02, 0.05, 0.1, 0.2, 0.3, 0.6: removing 60 % (4 of 6) needs the threshold above 0.2, i.e. at 0.3
    assert fit.threshold_for_field_removal(0.6) == 0.3
    assert fit.field_region_removal(0.3) == pytest.approx(4 / 6)
    assert fit.field_region_removal(0.29) == pytest.approx(4 / 6)
    assert fit.field_region_removal(0.2) == pytest.approx(3 / 6)
    # removing every field star keeps only stars above the largest field probability
    assert 0.6 < fit.threshold_for_field_removal(1.0) < 0.6 + 1e-12
    with pytest.raises(ValueError, match="expected a share in"):
        fit.threshold_for_field_removal(0.0)
    with pytest.raises(ValueError, match="no field-region probabilities"):
        MixtureMembership(np.array([0.5]), 0.5, 1.1, 0.35, 0.3, 10.0, 0.0).field_region_removal(0.5)


def test_the_field_regions_stars_measure_the_removal_of_the_object_areas_field_stars(fitted):
    """The field removal measured on the field region's stars placed over the object area is the true removal
    of the object area's field stars (3 binomial sigma), at the model's balanced point and at a chosen removal."""
    fit, is_member, above = fitted
    field = ~is_member & above
    assert fit.field_region_probability.shape[0] == FIELD_REGION_RADII
    for threshold in (
        fit.threshold_balanced(),
        fit.threshold_for_field_removal(0.85),
        fit.threshold_for_field_removal(0.95),
    ):
        measured = fit.field_region_removal(threshold)
        true = (fit.probability[field] < threshold).mean()
        assert true == pytest.approx(measured, abs=3 * np.sqrt(measured * (1 - measured) / field.sum()))
    assert fit.field_region_removal(fit.threshold_for_field_removal(0.85)) == pytest.approx(0.85, abs=1e-3)
