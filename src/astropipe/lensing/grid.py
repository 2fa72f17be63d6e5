"""Tabulation of the lensing quantities on a grid of speeds and impact parameters.

The grid is the outer product of the configured speeds v with, for each v, a
run of impact parameters from ``min_over_critical * b_c(v)`` to
``max_over_mass * M``, log-spaced in b - b_c so that the strong-deflection
regime is sampled as well as the weak field. Points are independent; :func:`grid_points` splits the
flattened grid into contiguous chunks so that the workflow can spread them over
cores or cluster jobs, and the gathered table is identical for any chunking.
Lengths are in units of the lens mass M = G M / c^2 (geometric units).
"""

from __future__ import annotations

import numpy as np
from astropy.table import Column, QTable, vstack
from numpy.typing import NDArray

from astropipe.lensing.approximations import joshi_deflection, newtonian_deflection, weak_field_deflection
from astropipe.lensing.cross_section import differential_cross_section, rutherford_cross_section
from astropipe.lensing.deflection import deflection_angle
from astropipe.lensing.geodesic import closest_approach, critical_impact_parameter
from astropipe.lensing.magnification import (
    magnification_ratio,
    magnification_ratio_joshi,
    magnification_ratio_newtonian,
)
from astropipe.lensing.refractive_medium import refractive_index
from astropipe.lensing.strong_field import strong_deflection_angle
from astropipe.lensing.travel_times import time_delay, time_delay_joshi, time_delay_newtonian

__all__ = ["gather", "grid_points", "tabulate"]


def grid_points(
    speeds: list[float],
    min_over_critical: float,
    max_over_mass: float,
    points: int,
    chunk: int = 0,
    chunks: int = 1,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(v, b/M) of the grid points belonging to one chunk.

    Parameters
    ----------
    speeds : list of float
        Asymptotic speeds v / c.
    min_over_critical : float
        Smallest b as a multiple of b_c(v) (> 1).
    max_over_mass : float
        Largest b in units of M (must exceed ``min_over_critical * b_c`` for
        every speed).
    points : int
        Impact parameters per speed, log-spaced in b - b_c(v).
    chunk, chunks : int
        Which of ``chunks`` contiguous parts of the flattened grid to return.

    Returns
    -------
    v, b : numpy.ndarray
        Speeds and impact parameters (units of M) of the chunk's points.
    """
    if not 0 <= chunk < chunks:
        raise ValueError(f"chunk must be in [0, {chunks}); got {chunk}")
    v_all, b_all = [], []
    for v in speeds:
        b_c = float(critical_impact_parameter(v, 1.0))
        if min_over_critical * b_c >= max_over_mass:
            raise ValueError(
                f"lensing.impact_parameter.max_over_mass = {max_over_mass} must exceed "
                f"min_over_critical * b_c = {min_over_critical * b_c:.4g} M for v = {v}"
            )
        # log-spaced in b - b_c: dense near capture, logarithmic far away
        b_all.append(b_c + np.geomspace((min_over_critical - 1.0) * b_c, max_over_mass - b_c, points))
        v_all.append(np.full(points, float(v)))
    v_flat, b_flat = np.concatenate(v_all), np.concatenate(b_all)
    part = np.array_split(np.arange(v_flat.size), chunks)[chunk]
    return v_flat[part], b_flat[part]


def tabulate(v: NDArray[np.float64], b: NDArray[np.float64], plane_distance: float, delay_radius: float) -> QTable:
    """All lensing quantities at the points (v, b), for a lens of unit mass.

    Parameters
    ----------
    v, b : numpy.ndarray
        Speeds (v / c) and impact parameters (units of M).
    plane_distance : float
        r_s of the magnification ratio (eqs. 10-12), units of M.
    delay_radius : float
        Radius of source and observer for the time delay, units of M (> b).

    Returns
    -------
    astropy.table.QTable
        One row per point; column descriptions name the paper's equations.
    """
    b_c = critical_impact_parameter(v, 1.0)
    table = QTable()
    table["v"] = _col(v, "asymptotic speed / c")
    table["b"] = _col(b, "impact parameter in units of M = GM/c^2")
    table["b_over_bc"] = _col(b / b_c, "b / b_c")
    table["r_min"] = _col(b / closest_approach(b, v, 1.0), "closest approach (Schwarzschild r) in units of M")
    columns = {
        "alpha_exact": (deflection_angle(b, v, 1.0), "exact deflection (rad)"),
        "alpha_weak1": (weak_field_deflection(b, v, 1.0, order=1), "weak-field series, 1st order (rad)"),
        "alpha_weak2": (weak_field_deflection(b, v, 1.0, order=2), "weak-field series, 2nd order (rad)"),
        "alpha_weak3": (weak_field_deflection(b, v, 1.0, order=3), "weak-field series, 3rd order (rad)"),
        "alpha_newtonian": (newtonian_deflection(b, v, 1.0), "Newtonian hyperbola (rad)"),
        "alpha_joshi": (joshi_deflection(b, v, 1.0), "Joshi eq. 4 (rad)"),
        "alpha_strong": (strong_deflection_angle(b, v, 1.0), "strong-deflection limit (rad)"),
    }
    for name, (values, description) in columns.items():
        table[name] = _col(values, description, "rad")
    alpha = table["alpha_exact"].value
    table["cross_section"] = _col(differential_cross_section(b, v, 1.0), "d sigma/d Omega, exact (M^2/sr)")
    table["cross_section_rutherford"] = _col(
        rutherford_cross_section(alpha, v, 1.0), "Rutherford eq. 5 at the exact angle (M^2/sr)"
    )
    table["mu_exact"] = _col(magnification_ratio(b, v, 1.0, plane_distance), "eqs. 10-11, exact deflection")
    table["mu_newtonian"] = _col(
        magnification_ratio_newtonian(b, v, 1.0, plane_distance), "eqs. 10-11, Newtonian deflection"
    )
    table["mu_joshi"] = _col(magnification_ratio_joshi(b, v, 1.0, plane_distance), "eq. 12 as printed")
    table["delay_exact"] = _col(time_delay(delay_radius, delay_radius, b, v, 1.0), "exact delay (units of M/c)")
    table["delay_newtonian"] = _col(
        time_delay_newtonian(delay_radius, delay_radius, b, v, 1.0), "Newtonian delay (units of M/c)"
    )
    table["delay_joshi"] = _col(time_delay_joshi(delay_radius, delay_radius, b, v, 1.0), "Joshi eq. 9 delay (M/c)")
    table["eta_at_rmin"] = _col(refractive_index(table["r_min"].value, v, 1.0), "eq. 14 at closest approach")
    table.meta.update(plane_distance_over_mass=plane_distance, delay_radius_over_mass=delay_radius)
    return table


def _col(values, description: str, unit: str | None = None) -> Column:
    return Column(np.asarray(values, dtype=float), description=description, unit=unit)


def gather(parts: list[QTable]) -> QTable:
    """Stack chunk tables in chunk order (metadata from the first chunk)."""
    if not parts:
        raise ValueError("no lensing chunks to gather")
    table = vstack(parts, metadata_conflicts="error")
    table.meta = dict(parts[0].meta)
    return table
