"""Directions on the sky in Galactic coordinates and the CMB frame.

Vectors are Galactic Cartesian (x towards l = 0, b = 0; y towards l = 90 deg;
z towards b = 90 deg), built with astropy. The CMB dipole is the Sun's
motion of 369.8 km/s towards l = 264.0 deg, b = 48.3 deg (the COBE/Planck dipole).
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from numpy.typing import ArrayLike, NDArray

__all__ = ["CMB_DIPOLE_B", "CMB_DIPOLE_KMS", "CMB_DIPOLE_L", "cmb_velocity", "direction_of", "unit_vectors"]

CMB_DIPOLE_KMS = 369.8
CMB_DIPOLE_L = 264.0
CMB_DIPOLE_B = 48.3
SPEED_OF_LIGHT_KMS = 299792.458


def unit_vectors(l_deg: ArrayLike, b_deg: ArrayLike) -> NDArray[np.float64]:
    """(n, 3) Galactic Cartesian unit vectors of directions (l, b) in degrees."""
    c = SkyCoord(l=np.atleast_1d(l_deg) * u.deg, b=np.atleast_1d(b_deg) * u.deg, frame="galactic")
    xyz = c.cartesian.xyz.value
    return np.asarray(xyz).T


def direction_of(vector: ArrayLike) -> tuple[float, float, float]:
    """Amplitude and Galactic (l, b) in degrees of a Cartesian vector."""
    v = np.asarray(vector, dtype=float)
    amplitude = float(np.linalg.norm(v))
    l_deg = float(np.degrees(np.arctan2(v[1], v[0])) % 360.0)
    b_deg = float(np.degrees(np.arcsin(np.clip(v[2] / amplitude, -1.0, 1.0)))) if amplitude > 0 else 0.0
    return amplitude, l_deg, b_deg


def cmb_velocity(cz_heliocentric: ArrayLike, l_deg: ArrayLike, b_deg: ArrayLike) -> NDArray[np.float64]:
    """CMB-frame cz (km/s) from heliocentric cz: exact composition of the redshifts.

    (1 + z_CMB) = (1 + z_hel) / (1 - v_sun . r_hat / c) to first order in
    v_sun / c, i.e. the observer's motion towards the source blueshifts it.
    """
    r_hat = unit_vectors(l_deg, b_deg)
    dipole = CMB_DIPOLE_KMS * unit_vectors(CMB_DIPOLE_L, CMB_DIPOLE_B)[0]
    projection = r_hat @ dipole
    z_hel = np.asarray(cz_heliocentric, dtype=float) / SPEED_OF_LIGHT_KMS
    z_cmb = (1.0 + z_hel) * (1.0 + projection / SPEED_OF_LIGHT_KMS) - 1.0
    return z_cmb * SPEED_OF_LIGHT_KMS
