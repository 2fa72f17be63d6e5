"""The colour-term system solved exactly, its error propagation, and the reference comparison."""

import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from astropipe.calibrate.photometric_system import BandCalibration, solve_colour_system
from astropipe.calibrate.reference_comparison import blended_magnitudes, fit_reference_relation

COVARIANCE = np.diag([1e-4, 4e-6])


def _calibrations(cov_h=COVARIANCE, cov_k=COVARIANCE):
    return (
        BandCalibration(-0.018, 22.92, cov_h, 0.03),
        BandCalibration(-0.005, 22.35, cov_k, 0.05, systematic_err=0.02),
    )


def test_solution_satisfies_equations_2_and_3():
    cal_h, cal_k = _calibrations()
    rng = np.random.default_rng(0)
    H = rng.uniform(10, 18, 100)
    K = H - rng.uniform(-0.2, 2.5, 100)
    h = H - cal_h.colour_term * (H - K) - cal_h.zero_point
    k = K - cal_k.colour_term * (H - K) - cal_k.zero_point
    out = solve_colour_system(h, np.full(100, 0.01), k, np.full(100, 0.01), cal_h, cal_k)
    np.testing.assert_allclose(out["H"], H, atol=1e-12)
    np.testing.assert_allclose(out["K"], K, atol=1e-12)
    np.testing.assert_allclose(out["HK"], H - K, atol=1e-12)


def test_errors_match_monte_carlo():
    cal_h, cal_k = _calibrations(
        cov_h=np.array([[4e-4, -1e-5], [-1e-5, 1e-4]]), cov_k=np.array([[9e-4, 0.0], [0.0, 4e-5]])
    )
    h, k = np.array([-8.0]), np.array([-9.2])
    out = solve_colour_system(h, np.array([0.03]), k, np.array([0.02]), cal_h, cal_k)
    rng = np.random.default_rng(1)
    n = 40000
    draws_h = rng.multivariate_normal([cal_h.colour_term, cal_h.zero_point], cal_h.covariance, n)
    draws_k = rng.multivariate_normal([cal_k.colour_term, cal_k.zero_point], cal_k.covariance, n)
    hk = (h - k + draws_h[:, 1] - draws_k[:, 1]) / (1 - draws_h[:, 0] + draws_k[:, 0])
    big_k = k + draws_k[:, 0] * hk + draws_k[:, 1]
    # the calibration errors include the 0.02 mag Ks -> K systematic on top of the fitted parameters
    assert np.std(hk) == pytest.approx(np.sqrt(out["e_HK_cal"][0] ** 2 - 0.02**2), rel=0.05)
    assert np.std(big_k) == pytest.approx(np.sqrt(out["e_K_cal"][0] ** 2 - 0.02**2), rel=0.05)
    noisy_h = h + 0.03 * rng.standard_normal(n)
    noisy_k = k + 0.02 * rng.standard_normal(n)
    random = solve_colour_system(noisy_h, np.full(n, 0.03), noisy_k, np.full(n, 0.02), cal_h, cal_k)
    assert np.std(random["HK"]) == pytest.approx(out["e_HK"][0], rel=0.03)
    assert np.std(random["H"]) == pytest.approx(out["e_H"][0], rel=0.03)
    assert np.std(random["K"]) == pytest.approx(out["e_K"][0], rel=0.03)


def test_reference_fit_recovers_offset_and_slope_with_outliers():
    rng = np.random.default_rng(2)
    m = rng.uniform(9, 14, 300)
    ref = m + 0.17 + 0.02 * (m - 12) + 0.03 * rng.standard_normal(300)
    ref[:15] -= rng.uniform(0.5, 1.5, 15)  # blends: brighter in the reference
    fit = fit_reference_relation(m, ref, np.full(300, 0.03), "H")
    assert abs(fit.offset_mag - 0.17) < 3 * fit.offset_err_mag
    assert abs(fit.slope - 0.02) < 3 * fit.slope_err
    assert fit.n_rejected >= 15 and not fit.used[:15].any()
    with pytest.raises(ValueError, match="H: 3 stars in common"):
        fit_reference_relation(m[:3], ref[:3], np.full(3, 0.03), "H")


def test_blended_magnitudes_sum_fluxes_within_the_resolution():
    reference = SkyCoord([266.0, 266.1], [-29.0, -29.0], unit="deg")
    ours = SkyCoord([266.0, 266.0 + 1.5 / 3600, 266.0 + 10 / 3600], [-29.0, -29.0, -29.0], unit="deg")
    blended, index = blended_magnitudes(reference, ours, np.array([12.0, 12.0, 11.0]), 2.5, 1.0)
    assert index.tolist() == [0]
    assert blended[0] == pytest.approx(12.0 - 2.5 * np.log10(2.0))
