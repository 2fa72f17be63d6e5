"""The tabulated grid: chunking invariance and consistency with the library."""

import numpy as np
import pytest

from astropipe.lensing import critical_impact_parameter, deflection_angle
from astropipe.lensing.grid import gather, grid_points, tabulate

SPEEDS = [1.0, 0.3, 0.01]


def _table(chunks):
    parts = [tabulate(*grid_points(SPEEDS, 1.01, 1e6, 7, chunk=i, chunks=chunks), 1e5, 1e8) for i in range(chunks)]
    return gather(parts)


def test_gathered_grid_is_identical_for_any_chunking():
    one, three = _table(1), _table(3)
    assert one.colnames == three.colnames
    for name in one.colnames:
        np.testing.assert_array_equal(np.asarray(one[name]), np.asarray(three[name]))


def test_grid_values_match_library_and_span_the_configured_range():
    table = _table(2)
    assert len(table) == 3 * 7
    for v in SPEEDS:
        rows = table[table["v"] == v]
        assert rows["b"].min() == pytest.approx(1.01 * critical_impact_parameter(v))
        assert rows["b"].max() == pytest.approx(1e6)
    np.testing.assert_array_equal(np.asarray(table["alpha_exact"]), deflection_angle(table["b"], table["v"]))
    assert str(table["alpha_exact"].unit) == "rad"


def test_grid_rejects_an_impossible_range():
    with pytest.raises(ValueError, match="max_over_mass"):
        grid_points([0.001], 1.01, 100.0, 5)
    with pytest.raises(ValueError, match="chunk"):
        grid_points([1.0], 1.01, 100.0, 5, chunk=2, chunks=2)
