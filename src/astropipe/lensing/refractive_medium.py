"""Refractive index of Schwarzschild space for massive particles (Joshi, eqs. 14-19).

Joshi defines eta = v_inf / v(r), the asymptotic speed over the speed at r
(eq. 14). Exactly, a static observer at r measures the local speed
v_loc = sqrt(1 - (1 - 2M/r)(1 - v_inf^2)) (from E = gamma_loc sqrt(1 - 2M/r)
and E = 1/sqrt(1 - v_inf^2)), which depends on r only, as the paper argues from
symmetry. Classically (eqs. 15-17) energy conservation gives
v(r) = sqrt(v_inf^2 + 2M/r).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from astropipe.lensing.geodesic import validate_orbit_parameters

__all__ = ["refractive_index", "refractive_index_newtonian"]


def refractive_index(r: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.float64]:
    """eta(r) = v_inf / v_loc(r) with the speed measured by a static observer.

    Parameters
    ----------
    r : array_like
        Schwarzschild radius coordinate, > 2M (length, unit of ``mass``).
    v : array_like
        Asymptotic speed / c.
    mass : array_like, optional
        Lens mass as a length.

    Returns
    -------
    numpy.ndarray
        Dimensionless eta <= 1 (1 for light; -> 1 as r -> infinity).
    """
    r_arr, v_arr, m_arr = validate_orbit_parameters(r, v, mass)
    if np.any(r_arr <= 2.0 * m_arr):
        raise ValueError("r must lie outside the horizon r = 2M for a static observer")
    one_minus_v2 = (1.0 - v_arr) * (1.0 + v_arr)
    local_speed = np.sqrt(v_arr**2 + 2.0 * m_arr / r_arr * one_minus_v2)
    return v_arr / local_speed


def refractive_index_newtonian(r: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Classical eta(r) = v_inf / sqrt(v_inf^2 + 2M/r) (eqs. 15-18)."""
    r_arr, v_arr, m_arr = validate_orbit_parameters(r, v, mass)
    return v_arr / np.sqrt(v_arr**2 + 2.0 * m_arr / r_arr)
