"""An expanding universe in the flow branch: the distance-redshift relation and what ignoring it does."""

import numpy as np
import pytest
from astropy.cosmology import FlatLambdaCDM

from astropipe.flow.cosmology import OMEGA_M, comoving_kms, dimming_mag, redshift_kms
from astropipe.flow.geometry import SPEED_OF_LIGHT_KMS
from astropipe.flow.peculiar import FlowSettings, analyse_survey
from astropipe.flow.survey import SurveySpec, simulate_survey


def test_comoving_distance_and_redshift_invert_each_other_and_match_astropy():
    cz = np.array([300.0, 3000.0, 14000.0, 40000.0])
    np.testing.assert_allclose(redshift_kms(comoving_kms(cz)), cz, rtol=1e-9)
    luminosity = FlatLambdaCDM(H0=100.0, Om0=OMEGA_M).luminosity_distance(cz / SPEED_OF_LIGHT_KMS).value * 100.0
    np.testing.assert_allclose(comoving_kms(cz) * (1 + cz / SPEED_OF_LIGHT_KMS), luminosity, rtol=1e-6)
    # low-redshift expansion: H0 D_C = cz (1 - (1 + q0) z / 2), q0 = 3 Omega_m / 2 - 1
    z = 0.01
    assert comoving_kms(SPEED_OF_LIGHT_KMS * z) == pytest.approx(
        SPEED_OF_LIGHT_KMS * z * (1 - 0.75 * OMEGA_M * z), rel=2e-5
    )
    assert dimming_mag(0.047) == pytest.approx(0.1995, abs=1e-4)


def _distance_trend(settings):
    """Slope of the fractional distance error against the true distance (per 10^4 km/s) over 40 surveys."""
    true, ratio = [], []
    for i in range(40):
        clusters, galaxies, dispersions, truth = simulate_survey(
            SurveySpec(), np.random.default_rng(np.random.SeedSequence([9, i]))
        )
        distance = np.array(truth["cluster_distance_kms"])
        true.append(distance)
        ratio.append(
            np.asarray(analyse_survey(clusters, galaxies, dispersions, settings).clusters["distance_kms"]) / distance
            - 1
        )
    x, y = np.concatenate(true) / 1e4, np.concatenate(ratio)
    x = x - x.mean()
    slope = float(x @ (y - y.mean()) / (x @ x))
    residual = y - y.mean() - slope * x
    return slope, float(np.sqrt(residual @ residual / (len(x) - 2) / (x @ x)))


def test_dimming_and_angular_diameter_distances_are_corrected_and_ignoring_them_fails():
    """The simulated universe expands; the chain that corrects for it has no distance trend, the one that
    does not puts far clusters ~6 % too far per 10^4 km/s (its surface brightnesses look 0.2 mag fainter)."""
    slope, error = _distance_trend(FlowSettings())
    assert abs(slope) < 3 * error + 0.005
    slope, error = _distance_trend(FlowSettings(cosmological=False))
    assert slope > 0.03 and slope > 6 * error


def test_a_distance_outside_the_table_is_refused_not_clamped():
    with pytest.raises(ValueError, match=r"comoving distances \[-5.0\] km/s lie outside"):
        redshift_kms(np.array([1000.0, -5.0]))
    with pytest.raises(ValueError, match="outside"):
        redshift_kms(np.nan)
