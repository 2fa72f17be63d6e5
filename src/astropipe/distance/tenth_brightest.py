"""Distance from the tenth-brightest cluster star (Dutra & Bica 2001; Dutra et al. 2003, §3.3).

Assuming the tenth-brightest member has a known spectral type (O5V for a
massive cluster like NGC 3603, B0V for a less massive one), its absolute
magnitude M_K gives the distance modulus

    (m - M)_0 = K10 - A_K - M_K,        d = 10^((m - M)_0 / 5 + 1) pc.

The uncertainty is dominated by differential reddening: a spread dA_K in the
extinction shifts the modulus by dA_K, i.e. dd / d = ln(10) / 5 x dA_K.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["distance_error_kpc", "distance_kpc", "tenth_brightest", "tenth_star_distance"]


def tenth_brightest(k: NDArray[np.float64], counts: NDArray[np.int64] | None = None) -> float:
    """K of the tenth-brightest star (mag); NaN with fewer than ten stars.

    Parameters
    ----------
    k : numpy.ndarray
        Magnitudes (mag); non-finite values are ignored.
    counts : numpy.ndarray of int, optional
        How many times each star counts (a bootstrap resample drawn as Poisson
        multiplicities); default once each.
    """
    k = np.asarray(k, float)
    counts = np.ones(k.size, dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
    finite = np.isfinite(k)
    order = np.argsort(k[finite])
    cumulative = np.cumsum(counts[finite][order])
    if cumulative.size == 0 or cumulative[-1] < 10:
        return float("nan")
    return float(k[finite][order][np.searchsorted(cumulative, 10)])


def distance_kpc(k10: float, a_k: float, absolute_k: float) -> float:
    """Heliocentric distance (kpc) for K10, A_K and the assumed M_K (all mag)."""
    return float(10.0 ** ((k10 - a_k - absolute_k) / 5.0 + 1.0) / 1000.0)


def distance_error_kpc(distance: float, modulus_err: float) -> float:
    """Linearised distance error (kpc) for an error of the distance modulus (mag)."""
    return float(distance * np.log(10.0) / 5.0 * modulus_err)


def tenth_star_distance(
    k10: float, k10_err: float, a_k: float, a_k_err: float, differential_a_k: float, absolute_k: float
) -> dict[str, float]:
    """Distance under one spectral-type hypothesis, with its error budget.

    Parameters
    ----------
    k10, k10_err : float
        Tenth-brightest member and its error (photometry and membership), mag.
    a_k, a_k_err : float
        Mean cluster extinction and its statistical error, mag.
    differential_a_k : float
        Half-width of the differential extinction (law x dE(H - K); paper 0.50), mag.
    absolute_k : float
        M_K of the assumed type (Cotera et al. 2000: O5V -4.81, B0V -3.34).

    Returns
    -------
    dict
        ``value`` (kpc), ``err`` (all terms in quadrature), ``err_differential``,
        ``err_statistical``, ``lower``/``upper`` (the modulus shifted by the
        total modulus error) and ``distance_modulus`` with its error.
    """
    d = distance_kpc(k10, a_k, absolute_k)
    modulus = k10 - a_k - absolute_k
    statistical = float(np.hypot(k10_err, a_k_err))
    total = float(np.hypot(statistical, differential_a_k))
    return {
        "value": d,
        "err": distance_error_kpc(d, total),
        "err_differential": distance_error_kpc(d, differential_a_k),
        "err_statistical": distance_error_kpc(d, statistical),
        "lower": distance_kpc(k10, a_k + total, absolute_k),
        "upper": distance_kpc(k10, a_k - total, absolute_k),
        "distance_modulus": modulus,
        "distance_modulus_err": total,
        "absolute_k": absolute_k,
    }
