"""The completeness limit read from an artificial-star table (astropipe.photometry.artificial_stars)."""

import numpy as np
import pytest
from astropy.table import Table

from astropipe.photometry.artificial_stars import completeness_limit


def _table(completeness: list[float]) -> Table:
    lo = 14.0 + 0.5 * np.arange(len(completeness))
    return Table({"mag_lo": lo, "mag_hi": lo + 0.5, "completeness": completeness})


@pytest.mark.parametrize("level, expected", [(0.5, 15.75 + 0.5 * (0.6 - 0.5) / (0.6 - 0.3)), (0.8, 15.25 + 0.5 * (0.9 - 0.8) / (0.9 - 0.6))])
def test_limit_interpolates_between_the_bins_around_the_first_drop_below_the_level(level, expected):
    """Bin centres 14.25 ... ; completeness 1, 0.95, 0.9, 0.6, 0.3, 0.55 (noise), 0: the first drop counts."""
    table = _table([1.0, 0.95, 0.9, 0.6, 0.3, 0.55, 0.0])
    assert completeness_limit(table, level) == pytest.approx(expected)


def test_limit_is_nan_when_the_tests_never_reach_the_level():
    assert np.isnan(completeness_limit(_table([1.0, 0.9, 0.7]), 0.5))
    assert completeness_limit(_table([0.4, 0.2]), 0.5) == pytest.approx(14.25)
