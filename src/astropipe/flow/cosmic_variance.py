"""The bulk flow expected in LambdaCDM for a survey's weights, and the measured flow compared with it.

A bulk-flow estimate is a weighted sum of radial peculiar velocities, u_i = sum_n w_in v_n. In linear
theory its covariance from the cosmic velocity field is (Watkins, Feldman & Hudson 2009, eq. 9-11;
Feldman, Watkins & Hudson 2010)

    R^v_ij = (H0 f)^2 / (2 pi^2) integral dk P(k) W^2_ij(k),
    W^2_ij(k) = sum_nm w_in w_jm f_nm(k),
    f_nm(k) = integral d^2k^/(4 pi) (r^_n . k^)(r^_m . k^) exp(i k k^ . (r_n - r_m)),

with f = Omega_m^0.55 the growth rate and P(k) the linear matter power spectrum today. The angular
average has the closed form (Ma, Gordon & Feldman 2011, eq. A5)

    f_nm(k) = cos(alpha) [j0(kA) - 2 j2(kA)] / 3 + r_n r_m sin^2(alpha) j2(kA) / A^2,

A = |r_n - r_m|, alpha the angle between r_n and r_m. For the maximum-likelihood flow of Hudson et al.
(1999, eq. 1) the weights are w_n = A^-1 r^_n / eps_n^2 (A = sum r^ r^T / eps^2); with the measurement
covariance R^e = A^-1 the flow's expected covariance is R^v + R^e, and chi^2 = u^T (R^v + R^e)^-1 u
(3 degrees of freedom) says how likely the measured flow is in the model, as Hudson et al. (1999, §4)
ask of their 630 km/s.

The power spectrum is colossus's (Diemer 2018) Eisenstein & Hu (1998) transfer function for the
Planck 2018 cosmology: a maintained, pure-Python package that needs no data files or downloads.
Distances are in km/s (H0 = 100 h km/s/Mpc, so r [Mpc/h] = r [km/s] / 100).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import Table
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import trapezoid
from scipy.stats import chi2

from astropipe.flow.geometry import unit_vectors

__all__ = [
    "CosmicVarianceModel",
    "PairKernel",
    "compare_with_lcdm",
    "flow_in_lcdm",
    "flow_window",
    "maximum_likelihood_weights",
]

#: wavenumbers of the integral, h/Mpc: far below the survey scale to far above the smallest separations' damping
WAVENUMBERS = np.geomspace(1e-4, 10.0, 200)  # the integrals change by 2e-4 from 400 points
#: wavenumbers whose pair kernels are held in memory together (25 x the pairs' count floats)
WAVENUMBERS_AT_ONCE = 25


@dataclass(frozen=True)
class CosmicVarianceModel:
    """A linear LambdaCDM velocity field: colossus cosmology name, growth-rate index and wavenumbers (h/Mpc)."""

    cosmology: str = "planck18"
    growth_index: float = 0.55

    def power_and_growth(self, k: NDArray) -> tuple[NDArray, float]:
        """P(k) in (Mpc/h)^3 at z = 0 and f = Omega_m^gamma."""
        from colossus.cosmology import cosmology  # imported here: only this comparison needs it

        model = cosmology.setCosmology(self.cosmology, persistence="")
        return np.asarray(model.matterPowerSpectrum(k, 0.0)), float(model.Om0**self.growth_index)


def maximum_likelihood_weights(r_hat: ArrayLike, error: ArrayLike) -> NDArray[np.float64]:
    """The weights (3, n) of the eq. 1 flow: u = w @ v, w_n = A^-1 r^_n / eps_n^2."""
    r_hat, error = np.asarray(r_hat, float), np.asarray(error, float)
    scaled = r_hat / error[:, None] ** 2
    return np.linalg.solve(scaled.T @ r_hat, scaled.T)


@dataclass(frozen=True)
class PairKernel:
    """f_nm(k) of every pair n < m of one set of positions: the closed form of Ma, Gordon & Feldman (2011, eq. A5).

    f_nm = cos(alpha) j0(kA) / 3 + [r_n r_m sin^2(alpha) / A^2 - 2 cos(alpha) / 3] j2(kA); each object with
    itself has f_nn = 1/3 at every k. The pairs are sorted by separation A, so that the few whose kA is too small
    for the closed forms (their series is used there) are a prefix. Build it with :meth:`of`.
    """

    size: int
    first: NDArray[np.intp]
    second: NDArray[np.intp]
    separation: NDArray[np.float64]
    j0_coefficient: NDArray[np.float64]
    j2_coefficient: NDArray[np.float64]

    #: the value of f_nn, an object with itself
    SELF = 1.0 / 3.0
    #: below this kA the closed forms lose digits to cancellation and the series is used
    SERIES_BELOW = 1e-2

    @classmethod
    def of(cls, positions: ArrayLike) -> PairKernel:
        """The pairs of ``positions`` (n, 3), Mpc/h."""
        positions = np.asarray(positions, float)
        first, second = np.triu_indices(len(positions), k=1)
        a, b = positions[first], positions[second]
        r_a, r_b = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
        dot = np.einsum("ij,ij->i", a, b)
        cos_alpha = np.clip(dot / (r_a * r_b), -1.0, 1.0)
        separation = np.sqrt(np.maximum(r_a**2 + r_b**2 - 2.0 * dot, 0.0))
        sin2_term = np.divide(
            r_a * r_b * (1.0 - cos_alpha**2),
            separation**2,
            out=np.zeros_like(separation),
            where=separation > 1e-9 * np.maximum(r_a, r_b),
        )
        order = np.argsort(separation, kind="stable")
        return cls(
            len(positions),
            first[order],
            second[order],
            separation[order],
            (cos_alpha / 3.0)[order],
            (sin2_term - 2.0 * cos_alpha / 3.0)[order],
        )

    def __call__(self, k: float) -> NDArray[np.float64]:
        """f_nm(k) of every pair (in the order of ``first`` and ``second``); ``k`` in h/Mpc."""
        x = k * self.separation
        series = int(np.searchsorted(self.separation, self.SERIES_BELOW / k)) if k > 0 else len(x)
        values = np.empty_like(x)
        small, a_small, b_small = x[:series], self.j0_coefficient[:series], self.j2_coefficient[:series]
        values[:series] = a_small * (1.0 - small**2 / 6.0) + b_small * (small**2 / 15.0 - small**4 / 210.0)
        large, a, b = x[series:], self.j0_coefficient[series:], self.j2_coefficient[series:]
        inverse = 1.0 / large
        inverse2 = inverse * inverse
        j0 = np.sin(large) * inverse
        # a j0 + b j2 with j2 = (3 / x^2 - 1) j0 - 3 cos(x) / x^2
        values[series:] = j0 * (a + b * (3.0 * inverse2 - 1.0)) - 3.0 * b * np.cos(large) * inverse2
        return values

    def matrix(self, pair_values: NDArray, self_value: float) -> NDArray[np.float64]:
        """The symmetric (n, n) matrix with ``pair_values`` off the diagonal and ``self_value`` on it."""
        out = np.full((self.size, self.size), float(self_value))
        out[self.first, self.second] = pair_values
        out[self.second, self.first] = pair_values
        return out


def flow_window(weights: ArrayLike, positions: ArrayLike, k: ArrayLike = WAVENUMBERS) -> NDArray[np.float64]:
    """W^2_ij(k), shape (len(k), 3, 3), of weights (3, n) on positions (n, 3) in Mpc/h.

    W^2_ij = sum_n w_in w_jn / 3 + sum_{n<m} (w_in w_jm + w_im w_jn) f_nm(k).
    """
    weights, k = np.asarray(weights, float), np.asarray(k, float)
    kernel = PairKernel.of(positions)
    own = weights @ weights.T * PairKernel.SELF
    w_first, w_second = weights[:, kernel.first], weights[:, kernel.second]
    pair_weights = np.einsum("ip,jp->pij", w_first, w_second)
    pair_weights = (pair_weights + pair_weights.transpose(0, 2, 1)).reshape(len(kernel.first), 9)
    window = np.empty((len(k), 9))
    for start in range(0, len(k), WAVENUMBERS_AT_ONCE):  # one matrix product per block of wavenumbers
        block = k[start : start + WAVENUMBERS_AT_ONCE]
        window[start : start + len(block)] = np.stack([kernel(wavenumber) for wavenumber in block]) @ pair_weights
    return own + window.reshape(len(k), 3, 3)


def flow_in_lcdm(objects: Table, vector: ArrayLike, covariance: ArrayLike, cosmology: str) -> dict:
    """:func:`compare_with_lcdm` for an eq. 1 flow (``vector``, km/s, and its ``covariance``) fitted to ``objects``
    (columns ``l``, ``b``, ``error_kms``, ``distance_kms``), with its maximum-likelihood weights."""
    r_hat = unit_vectors(objects["l"], objects["b"])
    weights = maximum_likelihood_weights(r_hat, np.asarray(objects["error_kms"], float))
    return compare_with_lcdm(
        vector, covariance, weights, np.asarray(objects["distance_kms"], float), r_hat, CosmicVarianceModel(cosmology)
    )


def compare_with_lcdm(
    vector: ArrayLike,
    noise_covariance: ArrayLike,
    weights: ArrayLike,
    distance_kms: ArrayLike,
    r_hat: ArrayLike,
    model: CosmicVarianceModel = CosmicVarianceModel(),
) -> dict:
    """The flow's LambdaCDM expectation and how likely the measured ``vector`` is in it.

    Parameters
    ----------
    vector : array_like (3,)
        Measured flow, km/s.
    noise_covariance : array_like (3, 3)
        Its measurement covariance R^e, km^2/s^2.
    weights : array_like (3, n)
        The estimator's weights (e.g. :func:`maximum_likelihood_weights`).
    distance_kms, r_hat : array_like
        Distances (km/s) and unit vectors of the n objects.

    Returns
    -------
    dict
        ``cosmic_covariance_kms2`` (R^v), the window function's trace ``window_trace`` (sum_i W^2_ii) at
        ``window_k_hmpc`` (h/Mpc), ``expected_rms_kms`` (sqrt tr R^v, the 3-D rms flow of this
        window), ``expected_rms_with_noise_kms`` (sqrt tr (R^v + R^e)), ``chi2`` and ``p`` (3 degrees of
        freedom), the ``cosmology`` and the growth rate.
    """
    positions = np.asarray(r_hat, float) * np.asarray(distance_kms, float)[:, None] / 100.0
    power, growth = model.power_and_growth(WAVENUMBERS)
    window = flow_window(weights, positions, WAVENUMBERS)
    cosmic = (100.0 * growth) ** 2 / (2.0 * np.pi**2) * trapezoid(power[:, None, None] * window, WAVENUMBERS, axis=0)
    total = cosmic + np.asarray(noise_covariance, float)
    vector = np.asarray(vector, float)
    statistic = float(vector @ np.linalg.solve(total, vector))
    return {
        "cosmology": model.cosmology,
        "growth_rate": growth,
        "cosmic_covariance_kms2": cosmic.tolist(),
        "window_k_hmpc": WAVENUMBERS.tolist(),
        "window_trace": np.trace(window, axis1=1, axis2=2).tolist(),
        "expected_rms_kms": float(np.sqrt(np.trace(cosmic))),
        "expected_rms_with_noise_kms": float(np.sqrt(np.trace(total))),
        "chi2": statistic,
        "p": float(chi2.sf(statistic, 3)),
    }
