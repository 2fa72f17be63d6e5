"""Strong-deflection limit of the Schwarzschild deflection for massive particles.

Near the critical impact parameter the deflection diverges logarithmically
(Bozza 2002 for light; Tsupko 2014 for massive particles):

    alpha(b) = -a_bar ln(b / b_c - 1) + b_bar + O((b - b_c) ln(b - b_c)).

Derived here from the elliptic closed form as the cubic's two larger roots
merge into the double root u_c = 1 / r_c. With u_1 = 1/(2M) - 2 u_c the third
root at criticality (Vieta), kappa = 2 M (1 - v^2) / v^2 and
F'' = 12 M u_c - 2 the cubic's curvature at u_c:

    a_bar = 1 / sqrt(2 M (u_c - u_1)),
    C     = 4 sqrt((kappa u_c + 1) / (b_c^2 F'')) / (u_c - u_1),
    b_bar = 4 a_bar [ln 4 - ln(C) / 2 - artanh(sqrt(-u_1 / (u_c - u_1)))] - pi,

which gives Bozza's a_bar = 1, b_bar = ln[216 (7 - 4 sqrt 3)] - pi = -0.4002
for light.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from astropipe.lensing.geodesic import (
    critical_impact_parameter,
    particle_sphere_radius,
    validate_orbit_parameters,
)

__all__ = ["strong_deflection_angle", "strong_deflection_coefficients"]


def strong_deflection_coefficients(
    v: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coefficients (a_bar, b_bar) of the strong-deflection limit.

    Parameters
    ----------
    v : array_like
        Asymptotic speed as a fraction of c, 0 < v <= 1.

    Returns
    -------
    a_bar, b_bar : numpy.ndarray
        Dimensionless; independent of the mass.
    """
    _, v_arr, _ = validate_orbit_parameters(1.0, v, 1.0)
    b_c = critical_impact_parameter(v_arr, 1.0)
    u_c = 1.0 / particle_sphere_radius(v_arr, 1.0)
    u_1 = 0.5 - 2.0 * u_c
    kappa = 2.0 * (1.0 - v_arr) * (1.0 + v_arr) / v_arr**2
    curvature = 12.0 * u_c - 2.0
    a_bar = 1.0 / np.sqrt(2.0 * (u_c - u_1))
    c = 4.0 * np.sqrt((kappa * u_c + 1.0) / (b_c**2 * curvature)) / (u_c - u_1)
    b_bar = 4.0 * a_bar * (np.log(4.0) - 0.5 * np.log(c) - np.arctanh(np.sqrt(-u_1 / (u_c - u_1)))) - np.pi
    return a_bar, b_bar


def strong_deflection_angle(b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Strong-deflection approximation -a_bar ln(b/b_c - 1) + b_bar.

    Parameters
    ----------
    b, v, mass : array_like
        Impact parameter, asymptotic speed / c, lens mass (geometric units).

    Returns
    -------
    numpy.ndarray
        Deflection in radians; NaN for b <= b_c.
    """
    b, v, mass = validate_orbit_parameters(b, v, mass)
    a_bar, b_bar = strong_deflection_coefficients(v)
    excess = b / critical_impact_parameter(v, mass) - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(excess > 0, -a_bar * np.log(excess) + b_bar, np.nan)
