"""The seeing through a simulated night: a slow drift shared by all exposures and a jitter of each frame.

The FWHM of an exposure taken ``t`` hours into the night is

    ln FWHM(t) = ln FWHM_log + g(t) - g(t_log) + jitter * N(0, 1),

where ``FWHM_log`` is the seeing the observing log gives for the science target (Dutra et al. 2003,
Table 1) at its first exposure ``t_log``, and ``g`` is a stationary Gaussian process of the log seeing with
covariance

    C(dt) = rms^2 (2 exp(-|dt| / tau) - exp(-2 |dt| / tau)),

white noise through two first-order stages of time constants tau and tau / 2 (a second-order
continuous autoregression, so the seeing changes smoothly: its structure function
2 rms^2 (1 - exp(-dt / tau))^2 grows as dt^2 and saturates at 2 rms^2). Racine (1996, PASP 108, 372)
found from series of turbulence profiles that the mean ratio of two seeing values dt apart (the larger
over the smaller) grows with an e-folding time of 17 min and saturates at ~1.6; ``rms = 0.37`` and
``tau = 13.7 min`` reproduce both numbers (the ratio is 1.6 at long dt and 1 + 0.6 (1 - 1/e) at 17 min;
:func:`mean_seeing_ratio`). Between the frames of one sequence the drift is a few per cent; between the
science and standards half an hour apart, tens of per cent.

The process is drawn exactly on a fixed grid of :data:`GRID_STEP_HOURS` from :data:`GRID_START_HOURS`
onwards, in time order from one random stream, and interpolated linearly between grid points; a
longer night appends grid points without changing the earlier ones.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import expm, solve_continuous_lyapunov
from scipy.stats import norm

__all__ = ["GRID_START_HOURS", "GRID_STEP_HOURS", "SeeingDrift", "mean_seeing_ratio"]

#: first grid point of the drift, hours after the night's start (the illumination frames come an hour early)
GRID_START_HOURS = -3.0
#: grid step of the drift (10 s; the process is smooth over minutes)
GRID_STEP_HOURS = 10.0 / 3600.0


def _transition(rate: float, step: float) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """State transition, its noise covariance and the stationary covariance of the two-stage process
    (state: log seeing, its driving stage) for unit driving noise; ``rate`` = 1 / tau, ``step`` in the same
    unit (Van Loan's matrix exponential)."""
    drift = np.array([[-rate, 1.0], [0.0, -2.0 * rate]])
    noise = np.array([[0.0, 0.0], [0.0, 1.0]])
    block = np.zeros((4, 4))
    block[:2, :2], block[:2, 2:], block[2:, 2:] = -drift, noise, drift.T
    exponential = expm(block * step)
    transition = exponential[2:, 2:].T
    step_covariance = transition @ exponential[:2, 2:]
    stationary = solve_continuous_lyapunov(drift, -noise)
    return transition, 0.5 * (step_covariance + step_covariance.T), stationary


class SeeingDrift:
    """One realisation of the drift ``g(t)`` of the log seeing, from :data:`GRID_START_HOURS` to ``end_hours``.

    Parameters
    ----------
    rms : float
        Standard deviation of the log seeing over a night (natural log; 0 = no drift).
    timescale_minutes : float
        tau of the covariance, minutes.
    end_hours : float
        Last time the night needs, hours after its start.
    rng : numpy.random.Generator
        The night's seeing stream (drawn in time order).
    """

    def __init__(self, rms: float, timescale_minutes: float, end_hours: float, rng: np.random.Generator) -> None:
        self.times = GRID_START_HOURS + GRID_STEP_HOURS * np.arange(
            int(np.ceil((end_hours - GRID_START_HOURS) / GRID_STEP_HOURS)) + 2
        )
        self.values = np.zeros(self.times.size)
        if rms == 0:
            return
        transition, step_covariance, stationary = _transition(60.0 / timescale_minutes, GRID_STEP_HOURS)
        scale = rms / np.sqrt(stationary[0, 0])
        step_factor = np.linalg.cholesky(step_covariance)
        state = np.linalg.cholesky(stationary) @ rng.standard_normal(2)
        shocks = rng.standard_normal((self.times.size, 2)) @ step_factor.T
        for k in range(self.times.size):
            self.values[k] = state[0]
            state = transition @ state + shocks[k]
        self.values *= scale

    def __call__(self, hours: float) -> float:
        """g at ``hours`` after the night's start (linear between grid points)."""
        if not self.times[0] <= hours <= self.times[-1]:
            raise ValueError(
                f"seeing drift asked at {hours:.3f} h; it was drawn from {self.times[0]:.2f} to {self.times[-1]:.2f} h"
            )
        return float(np.interp(hours, self.times, self.values))


def mean_seeing_ratio(rms: float, timescale_minutes: float, minutes: float | NDArray) -> float | NDArray:
    """Mean of the larger over the smaller of two seeing values ``minutes`` apart (Racine 1996's statistic).

    The log ratio is normal with variance 2 rms^2 (1 - exp(-dt / tau))^2 = s^2, and E[exp|X|] for
    X ~ N(0, s^2) is 2 exp(s^2 / 2) Phi(s).
    """
    s = np.sqrt(2.0) * rms * (1.0 - np.exp(-np.asarray(minutes) / timescale_minutes))
    return 2.0 * np.exp(s**2 / 2.0) * norm.cdf(s)
