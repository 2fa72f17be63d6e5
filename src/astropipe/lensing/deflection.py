"""Exact deflection of a massive particle by a Schwarzschild lens.

The deflection is alpha = 2 I - pi with I = int_0^{x0} dx / sqrt(G(x)) over the
orbit cubic of :mod:`astropipe.lensing.geodesic` (docs/lensing.md; the exact form of
Joshi's eqs. 2-4). Two independent evaluations are provided:

* :func:`deflection_angle` - the working routine. Substituting x = x0 sin(theta)
  and subtracting the flat-space integrand analytically gives

      alpha = 2 int_0^{pi/2} (D/Q) / (1 + sqrt(x0 (1 + s) / Q)) dtheta,
      s = sin(theta),  D = beta + 2 m x0^2 (s^2 + s + 1),  Q = x0 (1 + s) - D,

  a smooth integrand with no cancellation, so alpha keeps its full relative
  precision for b >> M (where alpha << pi) and is evaluated by adaptive
  quadrature.
* :func:`deflection_angle_elliptic` - the closed form in incomplete elliptic
  integrals of the first kind of the cubic's roots x1 < 0 < x0 < x2:

      I = 2 F(lambda | k^2) / sqrt(2 m (x2 - x1)),
      k^2 = (x0 - x1) / (x2 - x1),
      sin^2(lambda) = (x2 - x1) x0 / ((x0 - x1) x2),

  evaluated in arbitrary precision with mpmath because 2 I - pi cancels
  catastrophically in double precision when alpha is small.
"""

from __future__ import annotations

import mpmath
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import quad

from astropipe.lensing.geodesic import (
    closest_approach,
    critical_impact_parameter,
    orbit_cubic_coefficients,
    validate_orbit_parameters,
)

__all__ = ["deflection_angle", "deflection_angle_elliptic", "is_captured"]

_QUAD_EPSREL = 1e-13


def is_captured(b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.bool_]:
    """True where the particle falls into the lens (b <= b_c).

    Parameters
    ----------
    b, v, mass : array_like
        Impact parameter, asymptotic speed / c and lens mass (geometric units).

    Returns
    -------
    numpy.ndarray of bool
    """
    b, v, mass = validate_orbit_parameters(b, v, mass)
    return (mass > 0) & (b <= critical_impact_parameter(v, mass))


def _deflection_integrand(theta: float, x0: float, m: float, beta: float) -> float:
    s = np.sin(theta)
    d = beta + 2.0 * m * x0**2 * (s * s + s + 1.0)
    q = x0 * (1.0 + s) - d
    return (d / q) / (1.0 + np.sqrt(x0 * (1.0 + s) / q))


def deflection_angle(b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Exact deflection angle of a massive particle (or light) in Schwarzschild.

    Parameters
    ----------
    b : array_like
        Impact parameter, > 0, same length unit as ``mass``.
    v : array_like
        Asymptotic speed as a fraction of c, 0 < v <= 1 (v = 1 is light).
    mass : array_like, optional
        Lens mass as a length G M / c^2, >= 0. Default 1 (b in units of M).

    Returns
    -------
    numpy.ndarray
        Deflection angle in radians (broadcast shape of the inputs; a 0-d
        array for scalar input). NaN where the particle is captured
        (b <= b_c, :func:`critical_impact_parameter`).

    Raises
    ------
    ValueError
        For NaN inputs, b <= 0, v <= 0 or v > 1, or mass < 0.

    Notes
    -----
    To first order alpha = 2 M (1 + v^2) / (b v^2) (1.7512 arcsec for light at
    the solar limb); see :mod:`astropipe.lensing.approximations`.

    Examples
    --------
    Light grazing the Sun (b = R_sun in units of G M_sun / c^2), in arcsec:

    >>> import numpy as np
    >>> from astropipe.lensing import deflection_angle
    >>> round(float(np.degrees(deflection_angle(471142.0, 1.0)) * 3600), 4)
    1.7512

    Below the critical impact parameter (3 sqrt(3) M for light) the particle is captured:

    >>> np.round(deflection_angle([5.0, 10.0], 1.0), 6).tolist()
    [nan, 0.590396]
    """
    b, v, mass = validate_orbit_parameters(b, v, mass)
    x0 = closest_approach(b, v, mass)
    m, beta = orbit_cubic_coefficients(b, v, mass)
    captured = (mass > 0) & (b <= critical_impact_parameter(v, mass))
    alpha = np.full(b.shape, np.nan)
    for index in np.ndindex(b.shape):
        if captured[index] or not np.isfinite(x0[index]):
            continue
        if m[index] == 0:
            alpha[index] = 0.0
            continue
        value, _ = quad(
            _deflection_integrand,
            0.0,
            0.5 * np.pi,
            args=(x0[index], m[index], beta[index]),
            epsabs=0.0,
            epsrel=_QUAD_EPSREL,
            limit=400,
        )
        alpha[index] = 2.0 * value
    return alpha


def deflection_angle_elliptic(
    b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0, digits: int = 40
) -> NDArray[np.float64]:
    """Deflection angle from the closed form in incomplete elliptic integrals.

    Independent of :func:`deflection_angle` (roots by mpmath's polynomial
    solver, elliptic integral by mpmath), used to cross-check it.

    Parameters
    ----------
    b, v, mass : array_like
        As for :func:`deflection_angle`.
    digits : int, optional
        Working precision in decimal digits (default 40; alpha ~ 1e-8 needs
        about 25 to keep 1e-12 relative accuracy after 2 I - pi).

    Returns
    -------
    numpy.ndarray
        Deflection angle in radians; NaN where captured.
    """
    b, v, mass = validate_orbit_parameters(b, v, mass)
    captured = (mass > 0) & (b <= critical_impact_parameter(v, mass))
    alpha = np.full(b.shape, np.nan)
    with mpmath.workdps(digits):
        for index in np.ndindex(b.shape):
            if captured[index]:
                continue
            alpha[index] = float(_elliptic_alpha(b[index], v[index], mass[index]))
    return alpha


def _elliptic_alpha(b: float, v: float, mass: float) -> mpmath.mpf:
    if mass == 0:
        return mpmath.mpf(0)
    m = mpmath.mpf(mass) / mpmath.mpf(b)
    vv = mpmath.mpf(v)
    beta = 2 * m * (1 - vv**2) / vv**2
    roots = mpmath.polyroots([1, beta, -1, 2 * m], maxsteps=200, extraprec=2 * mpmath.mp.dps, asc=True)
    real = sorted(mpmath.re(r) for r in roots if abs(mpmath.im(r)) < mpmath.mpf(10) ** (-mpmath.mp.dps // 2))
    if len(real) != 3:
        return mpmath.nan
    x1, x0, x2 = real
    k2 = (x0 - x1) / (x2 - x1)
    sin2_lambda = (x2 - x1) * x0 / ((x0 - x1) * x2)
    lam = mpmath.asin(mpmath.sqrt(sin2_lambda))
    integral = 2 * mpmath.ellipf(lam, k2) / mpmath.sqrt(2 * m * (x2 - x1))
    return 2 * integral - mpmath.pi
