"""Approximate deflection angles to compare with the exact result.

* the weak-field (post-Minkowskian) series in M/b to third order,
* the classical Newtonian hyperbola (Rutherford),
* Joshi's own approximation (Joshi, eq. 4), from the Robertson expansion of
  the metric truncated at first order.

All in geometric units (G = c = 1): ``b`` and ``mass`` in one length unit,
``v`` the asymptotic speed as a fraction of c, angles in radians.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from astropipe.lensing.geodesic import validate_orbit_parameters

__all__ = ["joshi_deflection", "newtonian_deflection", "weak_field_deflection"]


def weak_field_deflection(b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0, order: int = 2) -> NDArray[np.float64]:
    """Weak-field series of the deflection angle in powers of M/b.

    alpha = 2 M (1 + v^2) / (b v^2)                              (first order)
          + 3 pi M^2 (4 + v^2) / (4 b^2 v^2)                      (second order)
          + 2 M^3 (5 v^6 + 45 v^4 + 15 v^2 - 1) / (3 b^3 v^6)      (third order)

    (orders 1-2 as in docs/lensing.md; the third-order term reduces to 128 M^3 / 3 b^3
    for light and is verified against the exact integral in the tests.)

    Parameters
    ----------
    b, v, mass : array_like
        Impact parameter, asymptotic speed / c, lens mass (geometric units).
    order : {1, 2, 3}, optional
        Highest power of M/b kept (default 2).

    Returns
    -------
    numpy.ndarray
        Deflection in radians.
    """
    if order not in (1, 2, 3):
        raise ValueError(f"order must be 1, 2 or 3; got {order!r}")
    b, v, mass = validate_orbit_parameters(b, v, mass)
    eps = mass / b
    v2 = v**2
    alpha = 2.0 * eps * (1.0 + v2) / v2
    if order >= 2:
        alpha = alpha + 3.0 * np.pi * eps**2 * (4.0 + v2) / (4.0 * v2)
    if order >= 3:
        alpha = alpha + 2.0 * eps**3 * (5.0 * v2**3 + 45.0 * v2**2 + 15.0 * v2 - 1.0) / (3.0 * v2**3)
    return alpha


def newtonian_deflection(b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Classical deflection on a Newtonian hyperbola: tan(alpha/2) = M / (b v^2).

    Parameters
    ----------
    b, v, mass : array_like
        Impact parameter, asymptotic speed / c, lens mass (geometric units).

    Returns
    -------
    numpy.ndarray
        Deflection in radians (the Rutherford scattering angle).
    """
    b, v, mass = validate_orbit_parameters(b, v, mass)
    return 2.0 * np.arctan(mass / (b * v**2))


def joshi_deflection(b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0, gamma_ppn: float = 1.0) -> NDArray[np.float64]:
    """Joshi's approximation (Joshi, eq. 4) of the deflection.

    Eq. 3 splits the Robertson-expanded orbit integral into the classical
    integral and a correction gamma M int J dr / (r^3 sqrt(...)), which
    integrates in closed form. With J = b v and 1 - E = v^2 (the paper's
    definitions) eq. 4 reads, once its extraction garbling is undone
    (M^2/J -> M^2/J^2, (M/4) sqrt(1-E) -> M sqrt(1-E)/J, the dimensionally
    consistent result of integrating eq. 3)::

        phi_0 = (1 + gamma M^2 / (b^2 v^2)) phi_cl + gamma M / b,
        alpha = 2 phi_0 - pi
              = alpha_N + gamma M^2 (pi + alpha_N) / (b^2 v^2) + 2 gamma M / b,

    with alpha_N the Newtonian angle. It is exact to first order in M/b for
    gamma = 1 but misses part of the second-order term because the metric
    functions were truncated at first order.

    Parameters
    ----------
    b, v, mass : array_like
        Impact parameter, asymptotic speed / c, lens mass (geometric units).
    gamma_ppn : float, optional
        PPN (Robertson) parameter gamma; 1 in general relativity.

    Returns
    -------
    numpy.ndarray
        Deflection in radians.
    """
    b, v, mass = validate_orbit_parameters(b, v, mass)
    alpha_n = newtonian_deflection(b, v, mass)
    eps = mass / b
    return alpha_n + gamma_ppn * eps**2 * (np.pi + alpha_n) / v**2 + 2.0 * gamma_ppn * eps
