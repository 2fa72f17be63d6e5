"""Travel time of a massive particle past a Schwarzschild lens and its delay.

Coordinate time t(r, r_min) from closest approach to radius r (Joshi,
eqs. 8-9). Exactly, with y = b/r and the orbit cubic G of
:mod:`astropipe.lensing.geodesic`,

    dt/dr = 1 / ((1 - 2M/r) v sqrt(G(b/r))),

and the factorisation G(y) = (x0 - y) Q(y) with r = r_min + w^2 removes the
inverse-square-root singularity at r_min:

    t = int_0^{sqrt(r - r_min)} 2 sqrt(r) dw / ((1 - 2M/r) v sqrt(x0 Q(b/r))).

The delay is measured against straight-line motion at speed v along the chord
at impact parameter b between the same two radii, on opposite sides of the
lens: tau = t(r1) + t(r2) - (sqrt(r1^2 - b^2) + sqrt(r2^2 - b^2)) / v.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import quad

from astropipe.lensing.geodesic import (
    closest_approach,
    critical_impact_parameter,
    orbit_cubic_coefficients,
    validate_orbit_parameters,
)

__all__ = [
    "time_delay",
    "time_delay_joshi",
    "time_delay_newtonian",
    "travel_time",
    "travel_time_joshi",
    "travel_time_newtonian",
]


def _travel_time_scalar(r: float, b: float, v: float, mass: float, x0: float, m: float, beta: float) -> float:
    r_min = b / x0
    if r < r_min:
        raise ValueError(f"radius r = {r!r} is inside the closest approach r_min = {r_min!r}")

    def integrand(w: float) -> float:
        radius = r_min + w * w
        y = b / radius
        q = (y + x0) - beta - 2.0 * m * (y * y + y * x0 + x0 * x0)
        return 2.0 * np.sqrt(radius) / ((1.0 - 2.0 * mass / radius) * v * np.sqrt(x0 * q))

    value, _ = quad(integrand, 0.0, np.sqrt(r - r_min), epsabs=0.0, epsrel=1e-13, limit=400)
    return value


def travel_time(r: ArrayLike, b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Exact Schwarzschild coordinate time from closest approach out to radius r.

    Parameters
    ----------
    r : array_like
        Radial coordinate reached (length, unit of ``mass``), >= r_min.
    b, v, mass : array_like
        Impact parameter, asymptotic speed / c, lens mass (geometric units).

    Returns
    -------
    numpy.ndarray
        Time in the length unit of ``mass`` (divide by c for seconds); NaN
        for captured orbits.
    """
    b, v, mass = validate_orbit_parameters(b, v, mass)
    r_arr, b, v, mass = np.broadcast_arrays(np.asarray(r, dtype=float), b, v, mass)
    x0 = closest_approach(b, v, mass)
    m, beta = orbit_cubic_coefficients(b, v, mass)
    captured = (mass > 0) & (b <= critical_impact_parameter(v, mass))
    out = np.full(r_arr.shape, np.nan)
    for i in np.ndindex(r_arr.shape):
        if not captured[i]:
            out[i] = _travel_time_scalar(r_arr[i], b[i], v[i], mass[i], x0[i], m[i], beta[i])
    return out


def _newtonian_pieces(r, b, v, mass):
    b, v, mass = validate_orbit_parameters(b, v, mass)
    r = np.asarray(r, dtype=float)
    a = mass / v**2
    r_min = b**2 / (np.sqrt(a**2 + b**2) + a)  # sqrt(a^2 + b^2) - a without cancellation
    root = np.sqrt((r - r_min) * (r + r_min + 2.0 * a))
    log_term = np.log((r + a + root) / (r_min + a))
    return root, log_term, a, v


def travel_time_newtonian(r: ArrayLike, b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0) -> NDArray[np.float64]:
    """Classical time along the Newtonian hyperbola (Joshi, footnote to eq. 9).

    t = [sqrt((r^2 - r_min^2) + 2a(r - r_min)) - a ln((r + a + sqrt(...)) / (r_min + a))] / v,
    a = M / v^2, r_min = sqrt(a^2 + b^2) - a (attractive sign convention).
    """
    root, log_term, a, v = _newtonian_pieces(r, b, v, mass)
    return (root - a * log_term) / v


def travel_time_joshi(
    r: ArrayLike, b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0, gamma_ppn: float = 1.0
) -> NDArray[np.float64]:
    """Joshi's eq. 9: the classical square-root term plus (1 + gamma) M / v^3 times the log.

    t = sqrt((r^2 - r_min^2) + 2a(r - r_min)) / v
        + (1 + gamma) M / v^3 ln((r + a + sqrt(...)) / (r_min + a)),

    read with the same attractive sign convention as
    :func:`travel_time_newtonian` (the printed signs of a are garbled).
    """
    root, log_term, a, v = _newtonian_pieces(r, b, v, mass)
    return root / v + (1.0 + gamma_ppn) * a * log_term / v


def _chord_time(r1, r2, b, v):
    b = np.asarray(b, dtype=float)
    return (np.sqrt(np.asarray(r1) ** 2 - b**2) + np.sqrt(np.asarray(r2) ** 2 - b**2)) / np.asarray(v)


def time_delay(
    r_source: ArrayLike, r_observer: ArrayLike, b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0
) -> NDArray[np.float64]:
    """Exact delay relative to straight-line motion at speed v (Joshi, eq. 9's tau).

    Parameters
    ----------
    r_source, r_observer : array_like
        Radii of the two end points, on opposite sides of the lens (> b).
    b, v, mass : array_like
        Impact parameter, asymptotic speed / c, lens mass (geometric units).

    Returns
    -------
    numpy.ndarray
        Delay in the length unit of ``mass`` (positive: the lensed particle
        arrives later).
    """
    total = travel_time(r_source, b, v, mass) + travel_time(r_observer, b, v, mass)
    return total - _chord_time(r_source, r_observer, b, v)


def time_delay_newtonian(
    r_source: ArrayLike, r_observer: ArrayLike, b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0
) -> NDArray[np.float64]:
    """Classical delay: negative, the particle is sped up by the attraction."""
    total = travel_time_newtonian(r_source, b, v, mass) + travel_time_newtonian(r_observer, b, v, mass)
    return total - _chord_time(r_source, r_observer, b, v)


def time_delay_joshi(
    r_source: ArrayLike, r_observer: ArrayLike, b: ArrayLike, v: ArrayLike, mass: ArrayLike = 1.0
) -> NDArray[np.float64]:
    """Delay from Joshi's eq. 9 (always positive, unlike the exact delay at low v)."""
    total = travel_time_joshi(r_source, b, v, mass) + travel_time_joshi(r_observer, b, v, mass)
    return total - _chord_time(r_source, r_observer, b, v)
