"""The statistical decontamination of a CMD (astropipe.cmd.decontaminate)."""

import numpy as np
import pytest

from astropipe.cmd.decontaminate import decontaminate


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
