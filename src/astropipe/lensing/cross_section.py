"""Differential scattering cross-section of a Schwarzschild lens.

The general classical relation for a monotonic deflection function alpha(b) is

    d sigma / d Omega = b |db / d alpha| / |sin alpha|

(Landau & Lifshitz, Mechanics, par. 18), applied here to the exact deflection.
Joshi (eq. 5) compares it with the Rutherford form
k'^2 / sin^4(alpha / 2); for the Newtonian hyperbola tan(alpha/2) = M/(b v^2)
the general relation gives exactly k' = M / (2 v^2), i.e. half the paper's
printed k' = GM/(1 - E) = M / v^2 (its 1 - E equals v^2).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from astropipe.lensing.deflection import deflection_angle
from astropipe.lensing.geodesic import validate_orbit_parameters

__all__ = ["differential_cross_section", "rutherford_cross_section"]

DeflectionFunction = Callable[[ArrayLike, ArrayLike, ArrayLike], NDArray[np.float64]]

_RELATIVE_STEP = 1e-5


def differential_cross_section(
    b: ArrayLike,
    v: ArrayLike,
    mass: ArrayLike = 1.0,
    deflection: DeflectionFunction = deflection_angle,
) -> NDArray[np.float64]:
    """d sigma / d Omega at the scattering angle alpha(b), from alpha(b).

    Parameters
    ----------
    b, v, mass : array_like
        Impact parameter, asymptotic speed / c, lens mass (geometric units).
    deflection : callable, optional
        ``deflection(b, v, mass)`` in radians; the exact
        :func:`~astropipe.lensing.deflection.deflection_angle` by default.

    Returns
    -------
    numpy.ndarray
        Cross-section per unit solid angle, in (length unit of ``mass``)^2;
        NaN where captured. The derivative d alpha / db is a central
        difference with relative step 1e-5 (truncation error ~1e-10).
    """
    b, v, mass = validate_orbit_parameters(b, v, mass)
    h = _RELATIVE_STEP * b
    alpha = deflection(b, v, mass)
    slope = (deflection(b + h, v, mass) - deflection(b - h, v, mass)) / (2.0 * h)
    return b / np.abs(slope * np.sin(alpha))


def rutherford_cross_section(alpha: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Rutherford-like cross-section (Joshi, eq. 5) at scattering angle alpha.

    d sigma / d Omega = k'^2 / sin^4(alpha / 2) with k' = M / (2 v^2).

    Parameters
    ----------
    alpha : array_like
        Scattering angle in radians.
    v, mass : array_like
        Asymptotic speed / c and lens mass (geometric units).

    Returns
    -------
    numpy.ndarray
        In (length unit of ``mass``)^2 per steradian.
    """
    _, v_arr, m_arr = validate_orbit_parameters(1.0, v, mass)
    k_prime = m_arr / (2.0 * v_arr**2)
    return k_prime**2 / np.sin(0.5 * np.asarray(alpha, dtype=float)) ** 4
