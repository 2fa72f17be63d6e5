"""The bulk-flow amplitude's profile likelihood and its one-sided lower limit.

Hudson et al. (1999) quote a 95 % lower limit on |V|. With a Gaussian likelihood for the flow vector
(best fit V^, covariance C), the profile of the amplitude is

    Delta chi^2(A) = min_{|V| = A} (V - V^)^T C^-1 (V - V^),

and the one-sided 95 % lower limit is the A < |V^| where Delta chi^2 = 2.71 (chi^2 with one degree of
freedom at 90 %, two-sided), or 0 when even V = 0 lies within that (Delta chi^2(0) = V^T C^-1 V^
< 2.71). Unlike the 5th percentile of |V^ + noise|, which adds the error bias of the amplitude back,
it answers how small the true flow can be.

The constrained minimum is the trust-region problem: with C^-1 = Q diag(w) Q^T and y = Q^T V^, the
minimiser is V(lam) = Q diag(w / (w + lam)) y for the lam >= 0 with |V(lam)| = A, and
Delta chi^2(lam) = sum w (lam y / (w + lam))^2; both are monotonic in lam, so the limit is one root.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq

__all__ = ["LOWER_LIMIT_DELTA_CHI2", "amplitude_lower_limit", "amplitude_profile"]

#: Delta chi^2 of a one-sided 95 % limit on one parameter
LOWER_LIMIT_DELTA_CHI2 = 2.705543454095404


def _eigen(vector: ArrayLike, covariance: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    weights, basis = np.linalg.eigh(np.linalg.inv(np.asarray(covariance, float)))
    return weights, basis.T @ np.asarray(vector, float)


def _shrunk(weights: np.ndarray, y: np.ndarray, lam: float) -> tuple[float, float]:
    """(|V(lam)|, Delta chi^2(lam)) on the path of constrained minima."""
    factor = weights / (weights + lam)
    return float(np.linalg.norm(factor * y)), float(np.sum(weights * ((1.0 - factor) * y) ** 2))


def amplitude_profile(vector: ArrayLike, covariance: ArrayLike, amplitude: float) -> float:
    """Delta chi^2 of the best flow with |V| = ``amplitude`` (km/s), for amplitudes below |V^|.

    Raises
    ------
    ValueError
        For an amplitude outside [0, |V^|] (above the best fit the profile is not needed for a
        lower limit).
    """
    weights, y = _eigen(vector, covariance)
    best = float(np.linalg.norm(y))
    if not 0.0 <= amplitude <= best:
        raise ValueError(f"amplitude {amplitude} km/s outside [0, |V| = {best:.6g}]")
    if amplitude == 0.0:
        return float(np.sum(weights * y**2))
    if amplitude == best:
        return 0.0
    upper = 1.0
    while _shrunk(weights, y, upper)[0] > amplitude:
        upper *= 10.0
    lam = brentq(lambda value: _shrunk(weights, y, value)[0] - amplitude, 0.0, upper, xtol=1e-14, rtol=1e-13)
    return _shrunk(weights, y, lam)[1]


def amplitude_lower_limit(
    vector: ArrayLike, covariance: ArrayLike, delta_chi2: float = LOWER_LIMIT_DELTA_CHI2
) -> float:
    """The amplitude (km/s) below which Delta chi^2 exceeds ``delta_chi2``; 0 if the rest frame is within it.

    Parameters
    ----------
    vector : array_like (3,)
        Best-fitting flow V^, km/s.
    covariance : array_like (3, 3)
        Its covariance, km^2/s^2.
    delta_chi2 : float
        2.71 for a one-sided 95 % limit.

    Examples
    --------
    With isotropic errors the limit is |V| - 1.645 sigma:

    >>> import numpy as np
    >>> round(amplitude_lower_limit([600.0, 0.0, 0.0], 120.0**2 * np.eye(3)), 1)
    402.6
    """
    weights, y = _eigen(vector, covariance)
    if np.sum(weights * y**2) <= delta_chi2:
        return 0.0
    upper = 1.0
    while _shrunk(weights, y, upper)[1] < delta_chi2:
        upper *= 10.0
    lam = brentq(lambda value: _shrunk(weights, y, value)[1] - delta_chi2, 0.0, upper, xtol=1e-14, rtol=1e-13)
    return _shrunk(weights, y, lam)[0]
