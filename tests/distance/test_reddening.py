"""Foreground and cluster reddening against the numbers of Dutra et al. (2003, section 3.3) (astropipe.distance.reddening)."""

import numpy as np
import pytest
from scipy.stats import norm, uniform

from astropipe.distance.reddening import (
    clump_reddening,
    cluster_reddening,
    upper_main_sequence_box,
    upper_main_sequence_reddening,
    weighted_median,
)

LAW, AV_PER_AK = 1.436, 3.315 / 0.367  # Dutra et al. 2003; Schlegel et al. (1998) A_V and A_K per E(B-V)


def test_foreground_numbers_of_section_3_3():
    """Clump at (H - K) = 0.85 against the b = -6 deg reference: Delta(H - K) = 0.60, E(H - K) = 0.70."""
    rng = np.random.default_rng(0)
    k0, hk0, e_true = 12.53, 0.15, 0.70
    clump_k = k0 + LAW * e_true + 0.1 * rng.standard_normal(400)
    clump_hk = hk0 + e_true + 0.05 * rng.standard_normal(400)
    # a steep red giant branch and a blue disc sequence around it
    rgb_k = rng.uniform(11.0, 16.0, 1500)
    rgb_hk = hk0 + e_true + 0.04 * (k0 + LAW * e_true - rgb_k) + 0.05 * rng.standard_normal(1500)
    disc_k, disc_hk = rng.uniform(10, 17, 800), rng.normal(0.3, 0.1, 800)
    result = clump_reddening(
        np.concatenate([clump_k, rgb_k, disc_k]),
        np.concatenate([clump_hk, rgb_hk, disc_hk]),
        k0,
        hk0,
        0.25,
        LAW,
        min_colour=0.6,
    )
    assert result.e_hk == pytest.approx(e_true, abs=3 * result.e_hk_err + 0.01)
    assert result.delta_hk_reference == pytest.approx(0.60, abs=0.02)
    assert result.clump_k == pytest.approx(k0 + LAW * e_true, abs=0.05)
    assert result.relative_distance_modulus == pytest.approx(0.0, abs=0.06)
    with pytest.raises(ValueError, match="red-sequence stars near the predicted clump"):
        clump_reddening(disc_k, disc_hk, k0, hk0, 0.25, LAW, min_colour=0.6)
    few = np.flatnonzero(np.abs(clump_k - (k0 + LAW * e_true)) < 0.3)[:15]
    k, hk = np.concatenate([clump_k[few], disc_k]), np.concatenate([clump_hk[few], disc_hk])
    with pytest.raises(ValueError, match=r"15 red-sequence stars .* at least 20 needed .*clump_reference\.min_stars"):
        clump_reddening(k, hk, k0, hk0, 0.25, LAW, min_colour=0.6)
    assert clump_reddening(k, hk, k0, hk0, 0.25, LAW, min_colour=0.6, min_stars=12).n_stars == 15


def test_cluster_reddening_recovers_uniform_differential_reddening():
    rng = np.random.default_rng(1)
    n = 3000
    hk = -0.07 + rng.uniform(1.14 - 0.35, 1.14 + 0.35, n) + 0.03 * rng.standard_normal(n)
    result = cluster_reddening(hk, np.full(n, 0.03), -0.07)
    assert result.e_hk == pytest.approx(1.14, abs=3 * result.e_hk_err)
    assert result.e_hk_halfwidth == pytest.approx(0.35, rel=0.1)
    with pytest.raises(ValueError, match="at least 5"):
        cluster_reddening(hk[:3], np.full(3, 0.03), -0.07)


def test_weighted_median_with_equal_weights_is_the_median():
    values = np.random.default_rng(2).normal(size=101)
    assert weighted_median(values, np.ones(101)) == pytest.approx(np.median(values))
    assert weighted_median(values[:100], np.full(100, 0.3)) == pytest.approx(np.median(values[:100]))


def test_membership_weights_take_the_field_out_of_the_cluster_reddening():
    """1000 members spread uniformly by differential reddening (E(H - K) = 1.14 +- 0.35) among 3000 bulge
    giants at H - K = 0.85 +- 0.10, each weighted by its exact membership probability: the weighted median
    and spread are the members', where the median of all candidates is pulled 0.2 mag towards the giants."""
    rng = np.random.default_rng(4)
    n_members, n_field = 1000, 3000
    members = uniform(loc=-0.07 + 1.14 - 0.35, scale=0.70)
    field = norm(loc=0.85, scale=0.10)
    hk = np.concatenate([members.rvs(n_members, random_state=rng), field.rvs(n_field, random_state=rng)])
    probability = n_members * members.pdf(hk) / (n_members * members.pdf(hk) + n_field * field.pdf(hk))
    result = cluster_reddening(hk, np.zeros(hk.size), -0.07, weights=probability)
    assert result.e_hk == pytest.approx(1.14, abs=3 * result.e_hk_err)
    assert result.n_members == pytest.approx(n_members, rel=0.05)
    assert result.e_hk_halfwidth == pytest.approx(0.35, rel=0.1)
    assert cluster_reddening(hk, np.zeros(hk.size), -0.07).e_hk < 1.14 - 0.15
    with pytest.raises(ValueError, match="members expected"):
        cluster_reddening(hk, np.zeros(hk.size), -0.07, weights=np.full(hk.size, 1e-3))


def test_a_small_field_behind_heavy_reddening_finds_its_clump():
    """A 74-arcsec field: 60 clump stars behind E(H - K) = 0.9 (1.3 mag below the unreddened clump) on a
    steep giant branch with only a few stars near K0; a search starting from E = 0 finds fewer than 20."""
    rng = np.random.default_rng(3)
    k0, hk0, e_true = 12.53, 0.15, 0.90
    clump_k = k0 + LAW * e_true + 0.1 * rng.standard_normal(60)
    clump_hk = hk0 + e_true + 0.05 * rng.standard_normal(60)
    rgb_k = 16.0 - rng.exponential(0.8, 200)  # counts rising steeply towards faint magnitudes
    rgb_hk = hk0 + e_true + 0.04 * (k0 + LAW * e_true - rgb_k) + 0.05 * rng.standard_normal(200)
    k, hk = np.concatenate([clump_k, rgb_k]), np.concatenate([clump_hk, rgb_hk])
    assert np.sum(np.abs(k - k0) < 0.5) < 20
    result = clump_reddening(k, hk, k0, hk0, 0.25, LAW, min_colour=0.6)
    assert result.e_hk == pytest.approx(e_true, abs=3 * result.e_hk_err + 0.02)
    assert result.clump_k == pytest.approx(k0 + LAW * e_true, abs=0.1)


def _reddened_sequence(rng: np.random.Generator, n: int, alpha: float, halfwidth: float):
    """Upper-main-sequence stars of one intrinsic colour (-0.07) with a luminosity function 10^(alpha K0) over
    K0 = 6-17 and E(H - K) uniform in 1.14 +- ``halfwidth``: observed K, H - K (mag)."""
    # inverse transform of the exponential luminosity function
    u = rng.random(n)
    k0 = np.log10(10 ** (alpha * 6.0) + u * (10 ** (alpha * 17.0) - 10 ** (alpha * 6.0))) / alpha
    e_hk = rng.uniform(1.14 - halfwidth, 1.14 + halfwidth, n)
    return k0 + LAW * e_hk, -0.07 + e_hk


def test_a_cut_in_k_biases_the_colour_blue_as_predicted_and_the_reddening_free_box_does_not():
    """A luminosity function 10^(alpha K) cut at a fixed K keeps stars with reddening offset d (uniform over
    +-w) in proportion to 10^(-alpha law d): their median offset is -ln(cosh(c w)) / c, c = ln(10) alpha law
    (-0.078 mag for alpha = 0.4, w = 0.35). The box along the reddening vector keeps every offset alike."""
    alpha, halfwidth = 0.4, 0.35
    k, hk = _reddened_sequence(np.random.default_rng(5), 400_000, alpha, halfwidth)
    faint_k = 12.0 + LAW * 1.14 + 2.5
    c = np.log(10.0) * alpha * LAW
    predicted_bias = -np.log(np.cosh(c * halfwidth)) / c
    in_k = upper_main_sequence_box(k, hk, faint_k, 0.5, law=0.0, reference_hk=0.0)
    assert in_k.sum() > 5000  # the medians below are good to ~0.005 mag
    assert np.median(hk[in_k]) + 0.07 - 1.14 == pytest.approx(predicted_bias, abs=0.01)
    assert predicted_bias == pytest.approx(-0.078, abs=0.001)
    result = upper_main_sequence_reddening(
        k, hk, np.full(k.size, 0.02), np.ones(k.size), faint_k=faint_k, boundary=0.5, law=LAW, intrinsic_hk=-0.07
    )
    assert result.converged
    assert result.cluster.e_hk == pytest.approx(1.14, abs=0.01)
    assert result.reference_hk == pytest.approx(result.cluster.mean_hk, abs=1e-3)
    # the box's edge passes through (reference colour, faint_k) along the reddening vector
    edge = upper_main_sequence_box(
        np.array([faint_k - 0.01, faint_k + 0.01, faint_k + LAW * 0.2 - 0.01]),
        np.full(3, result.reference_hk) + np.array([0.0, 0.0, 0.2]),
        faint_k,
        0.5,
        law=LAW,
        reference_hk=result.reference_hk,
    )
    assert edge.tolist() == [True, False, True]


def test_the_upper_sequence_takes_only_candidates_with_a_probability():
    """Stars without a membership probability (NaN: below the completeness limits) are not in the box."""
    k, hk = _reddened_sequence(np.random.default_rng(6), 20_000, 0.4, 0.35)
    weights = np.where(np.arange(k.size) % 2 == 0, 1.0, np.nan)
    result = upper_main_sequence_reddening(
        k, hk, np.full(k.size, 0.02), weights, faint_k=16.1, boundary=0.5, law=LAW, intrinsic_hk=-0.07
    )
    assert result.selected.any() and not np.any(result.selected & np.isnan(weights))
    assert result.cluster.n_stars == result.selected.sum()


def test_a_box_that_has_not_settled_says_so_and_which_colour_it_was_drawn_through(monkeypatch):
    """With one step allowed the box is drawn once, through the median colour of the stars with K <= faint_k."""
    import astropipe.distance.reddening as reddening

    k, hk = _reddened_sequence(np.random.default_rng(7), 20_000, 0.4, 0.35)
    errors, weights = np.full(k.size, 0.02), np.ones(k.size)
    monkeypatch.setattr(reddening, "MAX_BOX_ITERATIONS", 1)
    result = upper_main_sequence_reddening(
        k, hk, errors, weights, faint_k=16.1, boundary=0.5, law=LAW, intrinsic_hk=-0.07
    )
    assert not result.converged
    assert result.reference_hk == np.median(hk[(k <= 16.1) & (hk > 0.5)])
    assert np.array_equal(
        result.selected, upper_main_sequence_box(k, hk, 16.1, 0.5, law=LAW, reference_hk=result.reference_hk)
    )
