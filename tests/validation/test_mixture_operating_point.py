"""validation/mixture_operating_point.py: the mixture's operating points on a simulated night."""

import importlib.util
import sys

import numpy as np
import pytest
from conftest import REPO
from scipy.special import ndtr
from test_decontamination_axis import setup  # noqa: F401  (the fixture: exact photometry, one tuning night)

spec = importlib.util.spec_from_file_location(
    "mixture_operating_point", REPO / "validation" / "mixture_operating_point.py"
)
operating = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = operating  # its dataclasses look their module up there
spec.loader.exec_module(operating)


def _gaussian_colour_errors(h, k):
    return lambda delta: ndtr(delta / 0.03)


def test_each_operating_point_is_counted_against_the_truth(setup):  # noqa: F811
    rows = operating.compare_operating_points(operating.OperatingPointSetup(setup, [_gaussian_colour_errors]), 3)
    assert [row["operating_point"] for row in rows] == ["balanced"] + [
        f"field_removal {r:.2f}" for r in operating.FIELD_REMOVALS
    ]
    for row in rows:
        assert 0.0 <= row["members_kept"] <= 1.0 and 0.0 <= row["best_kept_at_80_removed"] <= 1.0
        assert row["n_members"] > 0 and row["scene"] == 3
    for row, removal in zip(rows[1:], operating.FIELD_REMOVALS, strict=True):
        assert row["field_region_removal"] >= removal
        # with exact photometry the field region's stars and the object area's field stars are one population:
        # the measured removal is the true one within the binomial error of the object area's field stars
        sigma = np.sqrt(removal * (1 - removal) / row["n_field"])
        assert row["field_removed"] == pytest.approx(row["field_region_removal"], abs=3 * sigma)
    # a higher removal never keeps more members
    kept = [row["members_kept"] for row in rows[1:]]
    assert kept == sorted(kept, reverse=True)
