"""Reddening and distance of one cluster (astropipe.distance.object_distance): the Fig. 10 overlay and the
refusal of a membership without a tenth-brightest star."""

import numpy as np
import pytest
from astropy.table import Table
from conftest import REPO

from astropipe.distance.object_distance import OVERLAY_LABELS, _k10, main_sequence_overlay
from astropipe.stellar.main_sequence import DWARF_MASSES, UpperMainSequence

REFERENCE = REPO / "resources" / "reference"


def test_the_overlay_is_the_main_sequence_reddened_and_shifted_to_the_distance():
    overlay = main_sequence_overlay(REFERENCE, distance_modulus=14.4, a_k=1.7, e_hk=1.1)
    labelled = overlay[overlay["label"] != ""]
    assert list(labelled["label"]) == list(OVERLAY_LABELS) and len(overlay) == 200 + len(OVERLAY_LABELS)
    model = UpperMainSequence(REFERENCE)
    k_abs, hk0 = model.photometry(np.array([DWARF_MASSES["B0V"]]))
    b0v = labelled[list(labelled["label"]).index("B0V")]
    assert b0v["K"] == pytest.approx(k_abs[0] + 14.4 + 1.7) and b0v["HK"] == pytest.approx(hk0[0] + 1.1)


def test_k10_is_the_median_over_the_repeats_and_fewer_than_ten_members_are_refused():
    members = Table({"K": np.arange(12.0, 24.0), "e_K": np.full(12, 0.03)})
    k10, k10_err = _k10(members, {"k10_per_repeat": [20.9, 21.0, 21.1, np.nan]}, "membership.ecsv")
    assert k10 == pytest.approx(21.0) and k10_err == pytest.approx(np.hypot(np.nanstd([20.9, 21.0, 21.1]), 0.03))
    with pytest.raises(ValueError, match=r"membership\.ecsv: fewer than ten decontaminated members"):
        _k10(members[:9], {"k10_per_repeat": [21.0]}, "membership.ecsv")
