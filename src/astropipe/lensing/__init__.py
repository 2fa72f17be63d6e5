"""Gravitational lensing of massive particles by a Schwarzschild mass (Joshi).

The public entry points are :func:`deflection_angle` and
:func:`critical_impact_parameter` (geometric units, G = c = 1) and their
quantity-aware counterparts in :mod:`astropipe.lensing.units`.
"""

from astropipe.lensing.approximations import joshi_deflection, newtonian_deflection, weak_field_deflection
from astropipe.lensing.cross_section import differential_cross_section, rutherford_cross_section
from astropipe.lensing.deflection import deflection_angle, deflection_angle_elliptic, is_captured
from astropipe.lensing.geodesic import closest_approach, critical_impact_parameter, particle_sphere_radius
from astropipe.lensing.magnification import (
    einstein_radius,
    image_magnifications,
    image_positions,
    magnification_ratio,
    magnification_ratio_joshi,
    magnification_ratio_newtonian,
)
from astropipe.lensing.refractive_medium import refractive_index, refractive_index_newtonian
from astropipe.lensing.strong_field import strong_deflection_angle, strong_deflection_coefficients
from astropipe.lensing.travel_times import (
    time_delay,
    time_delay_joshi,
    time_delay_newtonian,
    travel_time,
    travel_time_joshi,
    travel_time_newtonian,
)
from astropipe.lensing.units import (
    critical_impact_parameter_quantity,
    deflection_angle_quantity,
    gravitational_length,
    speed_from_kinetic_energy,
)

__all__ = [
    "closest_approach",
    "critical_impact_parameter",
    "critical_impact_parameter_quantity",
    "deflection_angle",
    "deflection_angle_elliptic",
    "deflection_angle_quantity",
    "differential_cross_section",
    "einstein_radius",
    "gravitational_length",
    "image_magnifications",
    "image_positions",
    "is_captured",
    "joshi_deflection",
    "magnification_ratio",
    "magnification_ratio_joshi",
    "magnification_ratio_newtonian",
    "newtonian_deflection",
    "particle_sphere_radius",
    "refractive_index",
    "refractive_index_newtonian",
    "rutherford_cross_section",
    "speed_from_kinetic_energy",
    "strong_deflection_angle",
    "strong_deflection_coefficients",
    "time_delay",
    "time_delay_joshi",
    "time_delay_newtonian",
    "travel_time",
    "travel_time_joshi",
    "travel_time_newtonian",
    "weak_field_deflection",
]
