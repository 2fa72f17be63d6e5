"""Distances in an expanding universe for the flow branch: comoving distance <-> cosmological redshift.

At the depth of a cluster survey (cz up to 14,000 km/s, z ~ 0.047) the Euclidean picture is off by
several per cent: angular sizes measure the angular-diameter distance D_A = D_C / (1 + z), surface
brightness dims as (1 + z)^4 (Tolman), and the comoving distance is not cz / H0 but
c integral_0^z dz' / E(z') (about 1 % shorter at z = 0.047 for Omega_m = 0.3). Distances here are in
km/s (H0 D), so no value of H0 is needed; a flat LambdaCDM with Omega_m = 0.3 sets the shape.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from astropy.cosmology import FlatLambdaCDM
from numpy.typing import ArrayLike, NDArray

from astropipe.flow.geometry import SPEED_OF_LIGHT_KMS

__all__ = ["COMOVING_STEP_KMS", "OMEGA_M", "comoving_kms", "dimming_mag", "redshift_kms"]

#: matter density of the flat LambdaCDM that shapes the distance-redshift relation
OMEGA_M = 0.3


@lru_cache(maxsize=1)
def _grid() -> tuple[NDArray, NDArray]:
    """(c z, H0 D_C), both km/s, on a fine grid up to z = 0.5."""
    z = np.linspace(0.0, 0.5, 50001)
    comoving = FlatLambdaCDM(H0=100.0, Om0=OMEGA_M).comoving_distance(z).value * 100.0
    return SPEED_OF_LIGHT_KMS * z, comoving


def comoving_kms(redshift_kms: ArrayLike) -> NDArray[np.float64]:
    """H0 times the comoving distance (km/s) of a cosmological redshift c z (km/s)."""
    cz, comoving = _grid()
    return np.interp(np.asarray(redshift_kms, float), cz, comoving)


#: spacing (km/s) of the comoving-distance table :func:`redshift_kms` interpolates linearly in (error < 1e-6 km/s)
COMOVING_STEP_KMS = 1.0


@lru_cache(maxsize=1)
def _redshift_table() -> tuple[NDArray, NDArray]:
    """c z at comoving distances 0, 1, 2 ... km/s, and the slope to the next node."""
    cz, comoving = _grid()
    nodes = np.arange(0.0, comoving[-1], COMOVING_STEP_KMS)
    values = np.interp(nodes, comoving, cz)
    return values, np.append(np.diff(values), np.nan) / COMOVING_STEP_KMS


def redshift_kms(comoving: ArrayLike) -> NDArray[np.float64]:
    """The cosmological redshift c z (km/s) of a comoving distance H0 D_C (km/s): the inverse of :func:`comoving_kms`.

    Linear interpolation in a table with a node every :data:`COMOVING_STEP_KMS` (an index, not a search: the
    resampling calls this for every cluster of every realisation in each zero-point iteration).

    Raises
    ------
    ValueError
        For a distance outside 0 - 0.5 in redshift (or not finite).
    """
    values = np.asarray(comoving, float)
    table, slope = _redshift_table()
    position = values / COMOVING_STEP_KMS
    if not np.all((position >= 0) & (position < table.size - 1)):
        bad = values[~((position >= 0) & (position < table.size - 1))]
        raise ValueError(
            f"comoving distances {bad.ravel()[:3].tolist()} km/s lie outside 0-{(table.size - 1) * COMOVING_STEP_KMS:.0f} "
            "km/s (0 < z < 0.5), where the distance-redshift relation is tabulated"
        )
    index = position.astype(np.int64)
    return table[index] + (values - index * COMOVING_STEP_KMS) * slope[index]


def dimming_mag(redshift: ArrayLike) -> NDArray[np.float64]:
    """Surface-brightness (Tolman) dimming 10 log10(1 + z), mag, of an observed redshift z."""
    return 10.0 * np.log10(1.0 + np.asarray(redshift, float))
