"""Timelike geodesics of the Schwarzschild metric: the orbit cubic and its roots.

Geometric units throughout (G = c = 1): the impact parameter ``b`` and the lens
``mass`` M are lengths in the same unit, ``v`` is the asymptotic speed as a
fraction of c.

With u = 1/r the orbit equation of a particle of asymptotic speed v and impact
parameter b is (docs/lensing.md; Joshi, eqs. 1-2 in
their exact, untruncated form)::

    (du/dphi)^2 = 1/b^2 + 2 M (1 - v^2) u / (b^2 v^2) - u^2 + 2 M u^3 .

In the dimensionless variable x = u b and with m = M / b this is the cubic

    G(x) = 2 m x^3 - x^2 + beta x + 1,      beta = 2 m (1 - v^2) / v^2,

whose smallest positive root x0 = b / r_min is the closest approach. The
particle is captured when G has no positive root (b <= b_c).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "closest_approach",
    "critical_impact_parameter",
    "orbit_cubic_coefficients",
    "particle_sphere_radius",
    "validate_orbit_parameters",
]


def validate_orbit_parameters(
    b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Check and broadcast the orbit parameters.

    Parameters
    ----------
    b : array_like
        Impact parameter (length, same unit as ``mass``); must be > 0.
    v : array_like
        Asymptotic speed as a fraction of c; must satisfy 0 < v <= 1.
    mass : array_like, optional
        Lens mass as a length (G M / c^2); must be >= 0.

    Returns
    -------
    b, v, mass : numpy.ndarray
        Float arrays broadcast to a common shape.

    Raises
    ------
    ValueError
        Naming the parameter and the offending value when an input is NaN or
        outside its domain.
    """
    arrays = np.broadcast_arrays(np.asarray(b, dtype=float), np.asarray(v, dtype=float), np.asarray(mass, dtype=float))
    b_arr, v_arr, m_arr = (np.array(a, dtype=float) for a in arrays)
    _require(b_arr, "b (impact parameter)", lambda a: a > 0, "> 0")
    _require(v_arr, "v (asymptotic speed / c)", lambda a: (a > 0) & (a <= 1), "in (0, 1]")
    _require(m_arr, "mass", lambda a: a >= 0, ">= 0")
    return b_arr, v_arr, m_arr


def _require(values: NDArray[np.float64], name: str, ok, expectation: str) -> None:
    bad = np.isnan(values) | ~ok(np.nan_to_num(values, nan=0.0))
    if np.any(bad):
        first = values[bad].flat[0]
        raise ValueError(
            f"{name} must be {expectation} and not NaN; got {first!r} ({int(np.count_nonzero(bad))} bad value(s))"
        )


def orbit_cubic_coefficients(
    b: NDArray[np.float64], v: NDArray[np.float64], mass: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Dimensionless coefficients ``m = M/b`` and ``beta = 2 m (1 - v^2) / v^2``.

    ``1 - v^2`` is formed as ``(1 - v)(1 + v)`` to keep its relative precision
    for ultra-relativistic particles.
    """
    m = mass / b
    beta = 2.0 * m * (1.0 - v) * (1.0 + v) / v**2
    return m, beta


def _cubic(x, m, beta):
    return ((2.0 * m * x - 1.0) * x + beta) * x + 1.0


def _cubic_derivative(x, m, beta):
    return (6.0 * m * x - 2.0) * x + beta


def closest_approach(b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Dimensionless inverse closest approach ``x0 = b / r_min``.

    The root is bracketed between the local maximum and the local minimum of
    the cubic G(x), where G decreases monotonically, and found by safeguarded
    Newton iteration to full double precision (vectorised).

    Parameters
    ----------
    b, v, mass : array_like
        See :func:`validate_orbit_parameters`.

    Returns
    -------
    numpy.ndarray
        ``b / r_min``; NaN for captured orbits (no positive root). Equal to 1
        for ``mass = 0``.
    """
    b, v, mass = validate_orbit_parameters(b, v, mass)
    m, beta = orbit_cubic_coefficients(b, v, mass)
    x0 = np.full(b.shape, np.nan)
    flat = m == 0
    x0[flat] = 1.0
    disc = 1.0 - 6.0 * m * beta
    live = ~flat & (disc > 0)
    if not np.any(live):
        return x0
    ml, bl, root = m[live], beta[live], np.sqrt(disc[live])
    lo = bl / (1.0 + root)  # local maximum of G (rationalised, no cancellation)
    hi = (1.0 + root) / (6.0 * ml)  # local minimum of G
    scattered = _cubic(hi, ml, bl) < 0
    # start from the flat-space-like root of -x^2 + beta x + 1 (exact for m -> 0)
    x = np.clip(0.5 * (bl + np.sqrt(bl**2 + 4.0)), lo, hi)
    # each element stops at its own convergence, so its value does not depend on
    # which other elements share the batch (results identical for any chunking)
    active = scattered.copy()
    for _ in range(200):
        if not np.any(active):
            break
        xa, la, ha, ma, ba = x[active], lo[active], hi[active], ml[active], bl[active]
        g = _cubic(xa, ma, ba)
        la = np.where(g > 0, xa, la)
        ha = np.where(g <= 0, xa, ha)
        x_new = xa - g / _cubic_derivative(xa, ma, ba)
        outside = ~((x_new > la) & (x_new < ha)) | ~np.isfinite(x_new)
        x_new = np.where(outside, 0.5 * (la + ha), x_new)
        done = np.abs(x_new - xa) <= 4.0 * np.finfo(float).eps * np.abs(xa)
        x[active], lo[active], hi[active] = x_new, la, ha
        active[np.flatnonzero(active)[done]] = False
    x0[live] = np.where(scattered, x, np.nan)
    return x0


def critical_impact_parameter(v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Critical impact parameter b_c below which the particle is captured.

    b_c = M sqrt(8 v^4 + 20 v^2 - 1 + (1 + 8 v^2)^(3/2)) / (sqrt(2) v^2)
    (3 sqrt(3) M for light, -> 4 M / v as v -> 0).

    Parameters
    ----------
    v : array_like
        Asymptotic speed as a fraction of c, 0 < v <= 1.
    mass : array_like, optional
        Lens mass as a length (G M / c^2), >= 0.

    Returns
    -------
    numpy.ndarray
        b_c in the unit of ``mass``.
    """
    _, v_arr, m_arr = validate_orbit_parameters(1.0, v, mass)
    v2 = v_arr**2
    # 8v^4 + 20v^2 - 1 + (1+8v^2)^1.5 without the cancellation of -1 + 1 at small v
    radicand = 8.0 * v2**2 + 20.0 * v2 + _onepow_minus_one(8.0 * v2)
    return m_arr * np.sqrt(radicand) / (np.sqrt(2.0) * v2)


def _onepow_minus_one(s: NDArray[np.float64]) -> NDArray[np.float64]:
    """(1 + s)^(3/2) - 1 without cancellation for small s."""
    root = np.sqrt(1.0 + s)
    # (1+s)^1.5 - 1 = ((1+s)^3 - 1) / ((1+s)^1.5 + 1)
    return s * (3.0 + 3.0 * s + s**2) / (root**3 + 1.0)


def particle_sphere_radius(v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Radius of the unstable circular orbit reached by a critical particle.

    With the critical angular momentum per unit mass L_c = gamma v b_c,
    r_c = 6 M / (1 + sqrt(1 - 12 M^2 / L_c^2)): 3M for light, 4M (the
    marginally bound orbit) as v -> 0.

    Parameters
    ----------
    v, mass : array_like
        See :func:`critical_impact_parameter`.

    Returns
    -------
    numpy.ndarray
        r_c in the unit of ``mass`` (Schwarzschild radial coordinate).
    """
    _, v_arr, m_arr = validate_orbit_parameters(1.0, v, mass)
    b_c = critical_impact_parameter(v_arr, 1.0)
    one_minus_v2 = (1.0 - v_arr) * (1.0 + v_arr)
    # 12 M^2 / L^2 with L = gamma v b_c (M = 1 here)
    ratio = 12.0 * one_minus_v2 / (v_arr * b_c) ** 2
    return m_arr * 6.0 / (1.0 + np.sqrt(1.0 - ratio))
