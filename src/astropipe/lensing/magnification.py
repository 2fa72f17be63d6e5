"""Magnification of a massive-particle flux by a point lens.

Two descriptions:

* Joshi's magnification ratio (Joshi, eqs. 10-12): a uniform flux crossing
  the lens plane at radius rho reaches a plane at distance r_s at radius
  h = rho + r_s tan(chi(rho)) (eq. 11), and mu = (h / rho) dh/d rho (eq. 10).
  Eq. 12 is the paper's closed form for the Newtonian deflection
  tan(chi/2) = k'/rho, k' = M / v^2.
* The thin-lens point-mass images, with the massive-particle Einstein radius
  theta_E^2 = 2 M (1 + v^2) / v^2 * D_LS / (D_L D_S), which follows
  from the first-order deflection 2 M (1 + v^2) / (b v^2).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from astropipe.lensing.deflection import deflection_angle
from astropipe.lensing.geodesic import validate_orbit_parameters

__all__ = [
    "einstein_radius",
    "image_magnifications",
    "image_positions",
    "magnification_ratio",
    "magnification_ratio_joshi",
    "magnification_ratio_newtonian",
]

_RELATIVE_STEP = 1e-5


def magnification_ratio(
    rho: ArrayLike,
    v: ArrayLike,
    mass: ArrayLike,
    plane_distance: ArrayLike,
    deflection: Callable[..., NDArray[np.float64]] = deflection_angle,
) -> NDArray[np.float64]:
    """Magnification ratio mu = (h/rho) dh/drho with h = rho + r_s tan chi (eqs. 10-11).

    Parameters
    ----------
    rho : array_like
        Impact parameter at the lens (length, unit of ``mass``).
    v, mass : array_like
        Asymptotic speed / c and lens mass (geometric units).
    plane_distance : array_like
        r_s, distance from the lens to the plane where the flux is measured
        (same length unit).
    deflection : callable, optional
        ``deflection(b, v, mass)``; the exact deflection by default.

    Returns
    -------
    numpy.ndarray
        Dimensionless mu (central difference for dh/drho, relative step 1e-5).
    """
    rho, v, mass = validate_orbit_parameters(rho, v, mass)
    r_s = np.asarray(plane_distance, dtype=float)

    def h(x):
        return x + r_s * np.tan(deflection(x, v, mass))

    step = _RELATIVE_STEP * rho
    slope = (h(rho + step) - h(rho - step)) / (2.0 * step)
    return h(rho) / rho * slope


def magnification_ratio_newtonian(
    rho: ArrayLike, v: ArrayLike, mass: ArrayLike, plane_distance: ArrayLike
) -> NDArray[np.float64]:
    """Eqs. 10-11 evaluated analytically for the Newtonian deflection.

    With t = k'/rho, k' = M/v^2 and R = r_s/rho, tan chi = 2t / (1 - t^2) and

        mu = 1 - 4 t^3 R / (1 - t^2)^2 - 4 t^2 R^2 (1 + t^2) / (1 - t^2)^3 .

    The paper's printed eq. 12 has the powers (1 - t^2) and (1 - t^2)^2 and
    no (1 + t^2); the two agree to leading order in t
    (see :func:`magnification_ratio_joshi`).
    """
    rho, v, mass = validate_orbit_parameters(rho, v, mass)
    t = mass / (v**2 * rho)
    r = np.asarray(plane_distance, dtype=float) / rho
    w = 1.0 - t**2
    return 1.0 - 4.0 * t**3 * r / w**2 - 4.0 * t**2 * r**2 * (1.0 + t**2) / w**3


def magnification_ratio_joshi(
    rho: ArrayLike, v: ArrayLike, mass: ArrayLike, plane_distance: ArrayLike
) -> NDArray[np.float64]:
    """The paper's eq. 12 as printed: mu = 1 - 4 t^3 R/(1-t^2) - 4 t^2 R^2/(1-t^2)^2."""
    rho, v, mass = validate_orbit_parameters(rho, v, mass)
    t = mass / (v**2 * rho)
    r = np.asarray(plane_distance, dtype=float) / rho
    w = 1.0 - t**2
    return 1.0 - 4.0 * t**3 * r / w - 4.0 * t**2 * r**2 / w**2


def einstein_radius(
    mass: ArrayLike,
    v: ArrayLike,
    lens_distance: ArrayLike,
    source_distance: ArrayLike,
    lens_source_distance: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Angular Einstein radius for particles of asymptotic speed v.

    theta_E^2 = 2 M (1 + v^2) / v^2 * D_LS / (D_L D_S), which is 4 M D_LS /
    (D_L D_S) for light.

    Parameters
    ----------
    mass : array_like
        Lens mass as a length G M / c^2.
    v : array_like
        Asymptotic speed / c.
    lens_distance, source_distance : array_like
        D_L and D_S in the unit of ``mass``.
    lens_source_distance : array_like, optional
        D_LS; D_S - D_L (flat space) if omitted.

    Returns
    -------
    numpy.ndarray
        theta_E in radians.
    """
    _, v_arr, m_arr = validate_orbit_parameters(1.0, v, mass)
    d_l = np.asarray(lens_distance, dtype=float)
    d_s = np.asarray(source_distance, dtype=float)
    d_ls = d_s - d_l if lens_source_distance is None else np.asarray(lens_source_distance, dtype=float)
    if np.any(d_l <= 0) or np.any(d_ls <= 0):
        raise ValueError("distances must satisfy 0 < D_L < D_S (and D_LS > 0)")
    return np.sqrt(2.0 * m_arr * (1.0 + v_arr**2) / v_arr**2 * d_ls / (d_l * d_s))


def image_positions(source_angle: ArrayLike, theta_e: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Image positions of a point lens: theta = (beta +- sqrt(beta^2 + 4 theta_E^2)) / 2.

    Parameters
    ----------
    source_angle : array_like
        beta, angular source position (any angle unit, >= 0).
    theta_e : array_like
        Einstein radius in the same unit.

    Returns
    -------
    theta_plus, theta_minus : numpy.ndarray
        The outer image on the source's side and the inner image opposite
        (theta_minus < 0).
    """
    beta = np.asarray(source_angle, dtype=float)
    root = np.sqrt(beta**2 + 4.0 * np.asarray(theta_e, dtype=float) ** 2)
    return 0.5 * (beta + root), 0.5 * (beta - root)


def image_magnifications(
    source_angle: ArrayLike, theta_e: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Signed magnifications of the two point-lens images::

        mu_+- = [u / sqrt(u^2 + 4) + sqrt(u^2 + 4) / u +- 2] / 4

    with u = beta / theta_E; the first image's is positive, the second's negative (parity-flipped), and::

        mu_+ + |mu_-| = (u^2 + 2) / (u sqrt(u^2 + 4)).
    """
    u = np.asarray(source_angle, dtype=float) / np.asarray(theta_e, dtype=float)
    root = np.sqrt(u**2 + 4.0)
    common = u / root + root / u
    return 0.25 * (common + 2.0), -0.25 * (common - 2.0)
