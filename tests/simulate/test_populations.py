"""The simulated cluster's differential reddening: each shape has the mean, rms and shape it says, and the default
draws exactly what the uniform band always drew."""

import numpy as np
import pytest
from conftest import REPO
from scipy.stats import kurtosis, skew

from astropipe.simulate.populations import DIFFERENTIAL_REDDENING_SHAPES, cluster_stars, differential_reddening
from astropipe.stellar.main_sequence import UpperMainSequence

HALFWIDTH = 0.35
N = 200_000


@pytest.mark.parametrize(
    ("shape", "skewness", "excess_kurtosis"),
    [("uniform", 0.0, -1.2), ("gaussian", 0.0, 0.0), ("exponential", 2.0, 6.0)],
)
def test_each_shape_has_zero_mean_the_uniform_bands_rms_and_its_own_moments(shape, skewness, excess_kurtosis):
    offsets = differential_reddening(np.random.default_rng(11), N, HALFWIDTH, shape)
    rms = HALFWIDTH / np.sqrt(3.0)
    assert abs(offsets.mean()) < 4 * rms / np.sqrt(N)
    assert offsets.std() == pytest.approx(rms, rel=0.01)
    assert skew(offsets) == pytest.approx(skewness, abs=0.1)
    assert kurtosis(offsets) == pytest.approx(excess_kurtosis, abs=0.3)
    if shape == "uniform":
        assert np.abs(offsets).max() <= HALFWIDTH
    else:
        assert np.abs(offsets).max() > HALFWIDTH  # beyond the band the member model assumes


def test_an_unknown_shape_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"lognormal.*uniform, gaussian, exponential"):
        differential_reddening(np.random.default_rng(1), 10, HALFWIDTH, "lognormal")
    assert DIFFERENTIAL_REDDENING_SHAPES == ("uniform", "gaussian", "exponential")


def test_the_uniform_shape_draws_what_the_uniform_band_always_drew():
    """From the same generator state the default shape gives the draws of rng.uniform(-w, w, n), which the cluster
    used before the shape could be chosen, so the default simulated nights are unchanged; another shape gives
    other members' reddening for the same cluster."""
    expected = np.random.default_rng(5).uniform(-HALFWIDTH, HALFWIDTH, 1000)
    np.testing.assert_array_equal(differential_reddening(np.random.default_rng(5), 1000, HALFWIDTH), expected)
    sequence = UpperMainSequence(REPO / "resources" / "reference")
    uniform, masses = cluster_stars(np.random.default_rng(5), sequence, "B0V", 7.6, 1.14, HALFWIDTH)
    gaussian, same_masses = cluster_stars(
        np.random.default_rng(5), sequence, "B0V", 7.6, 1.14, HALFWIDTH, differential_shape="gaussian"
    )
    np.testing.assert_array_equal(masses, same_masses)
    assert np.abs(uniform.e_hk - 1.14).max() <= HALFWIDTH < np.abs(gaussian.e_hk - 1.14).max()
