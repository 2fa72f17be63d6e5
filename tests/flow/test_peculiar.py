"""The flow settings refuse impossible values where they are built (astropipe.flow.peculiar)."""

import pytest

from astropipe.flow.peculiar import FlowSettings


def test_an_unknown_extinction_map_or_a_negative_dispersion_is_refused():
    with pytest.raises(ValueError, match="extinction_map = 'planck': expected 'sfd' or 'bh'"):
        FlowSettings(extinction_map="planck")
    with pytest.raises(ValueError, match=r"thermal_kms = -1\.0"):
        FlowSettings(thermal_kms=-1.0)
