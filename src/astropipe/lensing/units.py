"""Quantity-aware wrappers of the lensing functions (astropy units).

A user passes a lens mass in M_sun (or kg), impact parameters in km, R_sun,
AU or kpc, and either the asymptotic speed v/c or a kinetic energy together
with the particle's rest mass (e.g. a 0.1 eV neutrino at 1 MeV). Internally
everything is converted to the geometric length G M / c^2.
"""

from __future__ import annotations

import astropy.constants as const
import astropy.units as u
import numpy as np
from numpy.typing import NDArray

from astropipe.lensing.deflection import deflection_angle
from astropipe.lensing.geodesic import critical_impact_parameter

__all__ = [
    "critical_impact_parameter_quantity",
    "deflection_angle_quantity",
    "gravitational_length",
    "speed_from_kinetic_energy",
]


def gravitational_length(mass: u.Quantity) -> u.Quantity:
    """G M / c^2 of a mass (half the Schwarzschild radius), in metres."""
    mass = u.Quantity(mass)
    if not mass.unit.is_equivalent(u.kg):
        raise u.UnitsError(f"lens mass must be a mass (e.g. M_sun, kg); got unit {mass.unit}")
    return (const.G * mass / const.c**2).to(u.m)


def speed_from_kinetic_energy(kinetic_energy: u.Quantity, particle_mass: u.Quantity) -> NDArray[np.float64]:
    """Asymptotic speed v/c of a particle of rest mass m and kinetic energy K.

    gamma = 1 + K / (m c^2), v = sqrt(1 - 1/gamma^2).

    Parameters
    ----------
    kinetic_energy : astropy.units.Quantity
        Energy (e.g. MeV), > 0.
    particle_mass : astropy.units.Quantity
        Rest mass as a mass (kg) or rest energy (eV), > 0.

    Returns
    -------
    numpy.ndarray
        v / c, dimensionless.
    """
    rest_energy = u.Quantity(particle_mass).to(u.eV, equivalencies=u.mass_energy())
    kinetic = u.Quantity(kinetic_energy).to(u.eV)
    if np.any(rest_energy <= 0) or np.any(kinetic <= 0):
        raise ValueError(f"kinetic energy and particle mass must be > 0; got K = {kinetic}, m c^2 = {rest_energy}")
    ratio = (kinetic / rest_energy).to_value(u.one)
    gamma = 1.0 + ratio
    # 1 - 1/gamma^2 = ratio (ratio + 2) / gamma^2, no cancellation for gamma -> 1
    return np.sqrt(ratio * (ratio + 2.0)) / gamma


def _speed(v, kinetic_energy, particle_mass):
    if v is not None and kinetic_energy is None and particle_mass is None:
        return np.asarray(u.Quantity(v, u.one).to_value(u.one), dtype=float)
    if v is None and kinetic_energy is not None and particle_mass is not None:
        return speed_from_kinetic_energy(kinetic_energy, particle_mass)
    raise ValueError("give either v, or both kinetic_energy and particle_mass")


def deflection_angle_quantity(
    b: u.Quantity,
    lens_mass: u.Quantity,
    v: float | NDArray[np.float64] | None = None,
    kinetic_energy: u.Quantity | None = None,
    particle_mass: u.Quantity | None = None,
) -> u.Quantity:
    """Exact deflection for physical inputs.

    Parameters
    ----------
    b : astropy.units.Quantity
        Impact parameter (length).
    lens_mass : astropy.units.Quantity
        Lens mass (e.g. ``1 * u.M_sun``).
    v : float or array, optional
        Asymptotic speed / c.
    kinetic_energy, particle_mass : astropy.units.Quantity, optional
        Alternative to ``v``: kinetic energy and rest mass of the particle.

    Returns
    -------
    astropy.units.Quantity
        Deflection in arcsec (NaN if captured).

    Examples
    --------
    >>> import astropy.units as u
    >>> deflection_angle_quantity(1 * u.R_sun, 1 * u.M_sun, v=1.0).round(4)
    <Quantity 1.7512 arcsec>
    """
    length = gravitational_length(lens_mass)
    b_over_m = (u.Quantity(b) / length).to_value(u.one)
    alpha = deflection_angle(b_over_m, _speed(v, kinetic_energy, particle_mass), 1.0)
    return (alpha * u.rad).to(u.arcsec)


def critical_impact_parameter_quantity(
    lens_mass: u.Quantity,
    v: float | NDArray[np.float64] | None = None,
    kinetic_energy: u.Quantity | None = None,
    particle_mass: u.Quantity | None = None,
) -> u.Quantity:
    """Capture impact parameter b_c as a length (km)."""
    length = gravitational_length(lens_mass)
    return (critical_impact_parameter(_speed(v, kinetic_energy, particle_mass), 1.0) * length).to(u.km)
