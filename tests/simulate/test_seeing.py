"""The seeing through a simulated night: the drift's statistics against their analytic form and Racine
(1996)'s measurements, and how a night uses it."""

import numpy as np
import pytest
from conftest import REPO
from snakemake.utils import validate

from astropipe.random_streams import random_stream
from astropipe.simulate.night import NightSimulation
from astropipe.simulate.seeing import GRID_STEP_HOURS, SeeingDrift, mean_seeing_ratio

RMS, TAU_MIN = 0.37, 13.7


@pytest.fixture(scope="module")
def drifts():
    """400 independent 10-hour realisations of the drift with Racine's amplitude."""
    return np.array([SeeingDrift(RMS, TAU_MIN, 10.0, np.random.default_rng(s)).values for s in range(400)])


def test_the_drift_has_the_stated_variance_and_structure_function(drifts):
    """Var g = rms^2, and Var[g(t + dt) - g(t)] = 2 rms^2 (1 - exp(-dt / tau))^2 (a smooth process: ~dt^2)."""
    assert np.var(drifts) == pytest.approx(RMS**2, rel=0.06)
    for minutes in (1.0, 5.0, 17.0, 60.0):
        lag = round(minutes / 60.0 / GRID_STEP_HOURS)
        difference = drifts[:, lag:] - drifts[:, :-lag]
        expected = 2 * RMS**2 * (1 - np.exp(-lag * GRID_STEP_HOURS * 60.0 / TAU_MIN)) ** 2
        assert np.var(difference) == pytest.approx(expected, rel=0.08), minutes


def test_racines_amplitude_reproduces_his_mean_seeing_ratio(drifts):
    """Racine (1996): the mean ratio (larger over smaller) of two seeing values dt apart grows with an
    e-folding time of 17 min and saturates at ~1.6 - from the simulated drifts and from the closed form."""
    for minutes, racine in ((17.0, 1 + 0.6 * (1 - np.exp(-1))), (180.0, 1.6)):
        lag = round(minutes / 60.0 / GRID_STEP_HOURS)
        simulated = np.mean(np.exp(np.abs(drifts[:, lag:] - drifts[:, :-lag])))
        assert simulated == pytest.approx(racine, abs=0.03), minutes
        assert mean_seeing_ratio(RMS, TAU_MIN, minutes) == pytest.approx(racine, abs=0.005), minutes


def test_a_longer_night_keeps_the_earlier_drift():
    short = SeeingDrift(0.15, TAU_MIN, 3.0, random_stream(7, "seeing"))
    long = SeeingDrift(0.15, TAU_MIN, 9.0, random_stream(7, "seeing"))
    np.testing.assert_array_equal(long.values[: short.values.size], short.values)
    with pytest.raises(ValueError, match="drawn from"):
        short(5.0)


def _night(**simulation):
    config = {"imaging": {"simulation": {"detector": {"size": 256}, **simulation}}}
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    return NightSimulation(config["imaging"], REPO / "resources" / "reference")


def test_the_logged_seeing_holds_at_the_science_targets_first_exposure_and_drifts_away():
    night = _night(seeing_jitter=0.0)
    sequences = night.sequences()
    first = min(seq.start_hours for (field, _), seq in sequences.items() if field == "object11")
    rng = np.random.default_rng(0)
    assert night.seeing_fwhm(first, rng) == pytest.approx(night.sim["seeing_arcsec"], rel=1e-12)
    later = [night.seeing_fwhm(seq.start_hours, rng) for seq in sequences.values()]
    assert np.std(np.log(later)) > 0.02
    steady = _night(seeing_jitter=0.0, seeing_drift_rms=0.0)
    assert {steady.seeing_fwhm(seq.start_hours, rng) for seq in sequences.values()} == {0.8}


def test_an_unrenderably_sharp_seeing_is_refused():
    """0.4" on the large field's pixels (1.37 px) is rendered, averaged over points in each pixel; 0.28" (0.96 px)
    would put a star in one pixel and is refused."""
    night = _night()
    assert night.frame_psf(0.8, 0.292, "ok").fwhm == pytest.approx(0.8 / 0.292)
    assert night.frame_psf(0.4, 0.292, "cand03/Ks/2").fwhm == pytest.approx(0.4 / 0.292)
    with pytest.raises(ValueError, match=r"cand03/Ks/2: seeing 0.280 arcsec is 0.96 px at 0.292"):
        night.frame_psf(0.28, 0.292, "cand03/Ks/2")
