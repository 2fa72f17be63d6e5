"""Foreground and cluster reddening against the numbers of Dutra et al. (2003, section 3.3) (astropipe.distance.reddening)."""

import numpy as np
import pytest
from scipy.stats import norm, uniform

from astropipe.distance.reddening import clump_reddening, cluster_reddening, weighted_median

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
