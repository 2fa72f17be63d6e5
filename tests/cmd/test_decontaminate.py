"""The statistical decontamination of a CMD (astropipe.cmd.decontaminate)."""

import numpy as np
import pytest

from astropipe.cmd.decontaminate import decontaminate, equal_density_magnitudes


def test_decontamination_separates_a_distinct_cluster_and_is_reproducible():
    rng = np.random.default_rng(2)

    # field: a red-giant-like sequence; the object area holds the same field (scaled) plus a redder cluster
    def field_stars(n):
        h = rng.uniform(12, 18, n)
        return 0.9 + 0.05 * rng.standard_normal(n), h

    field_hk, field_h = field_stars(1200)
    obj_field_hk, obj_field_h = field_stars(400)  # area ratio 1/3
    cluster_hk, cluster_h = 1.5 + 0.05 * rng.standard_normal(150), rng.uniform(12, 18, 150)
    hk = np.concatenate([obj_field_hk, cluster_hk])
    h = np.concatenate([obj_field_h, cluster_h])
    result = decontaminate(hk, h, field_hk, field_h, 1 / 3, repeats=30, max_distance=1.0, seed=5)
    member = result.probability >= 0.5
    assert member[400:].mean() > 0.9  # cluster kept
    assert (~member[:400]).mean() > 0.85  # field removed
    assert result.n_subtracted.mean() == pytest.approx(400, abs=5)
    again = decontaminate(hk, h, field_hk, field_h, 1 / 3, repeats=30, max_distance=1.0, seed=5)
    np.testing.assert_array_equal(result.survivors, again.survivors)
    with pytest.raises(ValueError, match="area ratio"):
        decontaminate(hk, h, field_hk, field_h, 0.0)
    with pytest.raises(ValueError, match="non-finite"):
        decontaminate(np.append(hk, np.nan), np.append(h, 12.0), field_hk, field_h, 1 / 3)


def _counts_rising(rng: np.random.Generator, n: int, slope: float, bright: float, faint: float) -> np.ndarray:
    """n magnitudes (mag) with counts rising as 10^(slope H) between ``bright`` and ``faint``."""
    low, high = 10 ** (slope * bright), 10 ** (slope * faint)
    return np.log10(low + rng.random(n) * (high - low)) / slope


def test_equal_density_magnitudes_space_the_reference_stars_evenly():
    h = _counts_rising(np.random.default_rng(8), 500, 0.4, 8.0, 16.0)
    u = equal_density_magnitudes(h, h)
    steps = np.diff(np.sort(u))
    np.testing.assert_allclose(steps, (h.max() - h.min()) / h.size, rtol=1e-9)  # evenly spaced, mean density kept
    assert u.min() == pytest.approx(h.min() + 0.5 * steps[0]) and np.all(np.diff(u[np.argsort(h)]) > 0)
    # other stars fall between their neighbours in H; beyond the reference stars, at its ends
    others = equal_density_magnitudes(np.array([h.min() - 3.0, np.sort(h)[249] + 1e-9, h.max() + 3.0]), h)
    np.testing.assert_allclose(others, [h.min(), np.sort(u)[249], h.max()], atol=1e-6)
    with pytest.raises(ValueError, match="2 magnitudes"):
        equal_density_magnitudes(h, np.array([12.0, 12.0]))


def test_on_equal_density_magnitudes_the_bright_survivors_number_the_bright_excess():
    """A steep field luminosity function (0.4 dex/mag) and 60 cluster stars (0.3 dex/mag) on one colour sequence:
    brighter than the tenth cluster star, the survivors of an unbiased subtraction number the object area's excess
    over the area-scaled field. Matching on H leaves several more (a bright field star's nearest object star is more
    often a fainter one, so the tenth-brightest survivor comes out bright); on the equal-density scale the bias is
    gone (40 independent fields, 10 repeats each)."""
    bias = {"magnitude": [], "equal_density": []}
    for trial in range(40):
        rng = np.random.default_rng(100 + trial)
        field_h = _counts_rising(rng, 1800, 0.4, 8.0, 17.0)
        h = np.r_[_counts_rising(rng, rng.poisson(600), 0.4, 8.0, 17.0), _counts_rising(rng, 60, 0.3, 10.0, 17.0)]
        field_hk, hk = 0.9 + 0.1 * rng.standard_normal(field_h.size), 0.9 + 0.1 * rng.standard_normal(h.size)
        tenth_member = np.sort(h[-60:])[9]
        bright = h <= tenth_member
        excess = bright.sum() - np.sum(field_h <= tenth_member) / 3
        for axis, (object_scale, field_scale) in {
            "magnitude": (h, field_h),
            "equal_density": (equal_density_magnitudes(h, h), equal_density_magnitudes(field_h, h)),
        }.items():
            result = decontaminate(
                hk, object_scale, field_hk, field_scale, 1 / 3, max_distance=1.0, repeats=10, seed=trial
            )
            bias[axis].append(result.probability[bright].sum() - excess)
    for axis, values in bias.items():
        bias[axis] = (np.mean(values), np.std(values) / np.sqrt(len(values)))
    assert bias["magnitude"][0] > 4 * bias["magnitude"][1]  # 4.1 +- 0.6 stars
    assert abs(bias["equal_density"][0]) < 3 * bias["equal_density"][1]  # 0.8 +- 0.6
