"""The refractive index of the lens for massive particles (astropipe.lensing.refractive_medium)."""

import numpy as np
import pytest

from astropipe.lensing import (
    refractive_index,
    refractive_index_newtonian,
)


def test_refractive_index_limits():
    r = np.geomspace(10.0, 1e8, 5)
    np.testing.assert_allclose(refractive_index(r, 1.0), 1.0)
    np.testing.assert_allclose(refractive_index(r, 1e-4), refractive_index_newtonian(r, 1e-4), rtol=1e-7)
    assert refractive_index(1e12, 0.3) == pytest.approx(1.0, abs=1e-10)
    assert np.all(np.diff(refractive_index(r, 0.3)) > 0)
    with pytest.raises(ValueError, match="horizon"):
        refractive_index(1.5, 0.5)
