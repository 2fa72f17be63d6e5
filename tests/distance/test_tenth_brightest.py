"""Tenth-brightest-star distances and their errors against the numbers of Dutra et al. (2003) (astropipe.distance.tenth_brightest)."""

import numpy as np
import pytest

from astropipe.distance.reddening import extinction_k
from astropipe.distance.tenth_brightest import distance_error_kpc, distance_kpc, tenth_brightest, tenth_star_distance

LAW, AV_PER_AK = 1.436, 3.315 / 0.367  # Dutra et al. 2003; Schlegel et al. (1998) A_V and A_K per E(B-V)


def test_extinction_and_distances_of_object_11():
    a_k = extinction_k(1.14, LAW)
    assert a_k == pytest.approx(1.64, abs=0.005)
    assert a_k * AV_PER_AK == pytest.approx(15.0, abs=0.3)  # "A_V ~ 15"
    assert distance_kpc(12.7, a_k, -4.81) == pytest.approx(14.9, abs=0.05)  # O5V
    b0v = tenth_star_distance(12.7, 0.0, a_k, 0.0, LAW * 0.35, -3.34)
    assert b0v["value"] == pytest.approx(7.6, abs=0.05)
    assert b0v["lower"] < b0v["value"] < b0v["upper"]


def test_the_papers_distance_error():
    """dE(H-K) = 0.35 gives dA_K = 0.50 (paper); propagated, that is +-1.75 kpc at 7.6 kpc.

    The paper's +-1.2 kpc is what a 0.35 mag modulus error gives: it propagated
    dE(H-K) rather than dA_K. The code propagates dA_K and says so in the README.
    """
    assert LAW * 0.35 == pytest.approx(0.50, abs=0.005)
    b0v = tenth_star_distance(12.7, 0.0, extinction_k(1.14, LAW), 0.0, LAW * 0.35, -3.34)
    assert b0v["err"] == pytest.approx(1.75, abs=0.02)
    assert distance_error_kpc(7.6, 0.35) == pytest.approx(1.2, abs=0.03)


def test_tenth_brightest():
    assert tenth_brightest(np.arange(20.0)[::-1]) == 9.0
    assert np.isnan(tenth_brightest(np.arange(9.0)))
    # multiplicities: the brightest star counted five times, the second four, the third not at all
    k = np.array([3.0, 1.0, 2.0, 4.0, 5.0, np.nan])
    assert tenth_brightest(k, np.array([0, 5, 4, 1, 7, 3])) == 4.0
    assert tenth_brightest(k, np.array([0, 5, 4, 0, 7, 3])) == 5.0
    assert np.isnan(tenth_brightest(k, np.array([1, 1, 1, 1, 1, 30])))
