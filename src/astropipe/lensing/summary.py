"""Scalar lensing results: characteristic radii, strong-field coefficients, physical examples."""

from __future__ import annotations

from typing import Any

import astropy.units as u

from astropipe.lensing.approximations import joshi_deflection, newtonian_deflection, weak_field_deflection
from astropipe.lensing.deflection import deflection_angle
from astropipe.lensing.geodesic import critical_impact_parameter, particle_sphere_radius
from astropipe.lensing.magnification import einstein_radius
from astropipe.lensing.strong_field import strong_deflection_coefficients
from astropipe.lensing.units import gravitational_length, speed_from_kinetic_energy

__all__ = ["characteristic_values", "physical_example"]


def characteristic_values(v: float) -> dict[str, float]:
    """b_c, r_c (units of M) and the strong-deflection coefficients for speed v."""
    a_bar, b_bar = strong_deflection_coefficients(v)
    return {
        "v": float(v),
        "critical_impact_parameter_m": float(critical_impact_parameter(v, 1.0)),
        "particle_sphere_radius_m": float(particle_sphere_radius(v, 1.0)),
        "strong_deflection_a_bar": float(a_bar),
        "strong_deflection_b_bar": float(b_bar),
    }


def physical_example(example: dict[str, Any]) -> dict[str, Any]:
    """Deflection of one physical configuration (a config ``lensing.examples`` entry).

    Parameters
    ----------
    example : dict
        ``name``, ``lens_mass_msun``, ``impact_parameter`` with
        ``impact_parameter_unit`` (km, R_sun, AU, pc, kpc), and either
        ``speed`` (v/c) or ``kinetic_energy_ev`` with ``particle_mass_ev``;
        optionally ``lens_distance_mpc`` and ``source_distance_mpc`` for the
        Einstein radius.

    Returns
    -------
    dict
        Speed, lengths in km and in units of M, and the exact, first-order,
        Newtonian and Joshi (eq. 4) deflections in arcsec.
    """
    length = gravitational_length(example["lens_mass_msun"] * u.M_sun)
    b = example["impact_parameter"] * u.Unit(example["impact_parameter_unit"])
    if "speed" in example:
        v = float(example["speed"])
    else:
        v = float(speed_from_kinetic_energy(example["kinetic_energy_ev"] * u.eV, example["particle_mass_ev"] * u.eV))
    b_m = float((b / length).to_value(u.one))
    arcsec = (1.0 * u.rad).to_value(u.arcsec)
    result: dict[str, Any] = {
        "name": example["name"],
        "speed": v,
        "one_minus_speed": 1.0 - v,
        "gravitational_length_km": float(length.to_value(u.km)),
        "impact_parameter_km": float(b.to_value(u.km)),
        "impact_parameter_m": b_m,
        "critical_impact_parameter_km": float(critical_impact_parameter(v, 1.0) * length.to_value(u.km)),
        "alpha_exact_arcsec": float(deflection_angle(b_m, v)) * arcsec,
        "alpha_weak1_arcsec": float(weak_field_deflection(b_m, v, order=1)) * arcsec,
        "alpha_newtonian_arcsec": float(newtonian_deflection(b_m, v)) * arcsec,
        "alpha_joshi_arcsec": float(joshi_deflection(b_m, v)) * arcsec,
    }
    if "lens_distance_mpc" in example and "source_distance_mpc" in example:
        d_l = (example["lens_distance_mpc"] * u.Mpc / length).to_value(u.one)
        d_s = (example["source_distance_mpc"] * u.Mpc / length).to_value(u.one)
        result["einstein_radius_arcsec"] = float(einstein_radius(1.0, v, d_l, d_s)) * arcsec
    return result
