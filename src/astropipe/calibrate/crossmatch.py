"""Positional cross-match of two star lists on the sky (mutual nearest neighbours)."""

from __future__ import annotations

import numpy as np
from astropy.coordinates import SkyCoord
from numpy.typing import NDArray

__all__ = ["mutual_nearest"]


def mutual_nearest(
    first: SkyCoord, second: SkyCoord, radius_arcsec: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Pairs (i, j) that are each other's nearest neighbour and closer than ``radius_arcsec``.

    Returns
    -------
    index_first, index_second : numpy.ndarray of int
    separation_arcsec : numpy.ndarray
    """
    if len(first) == 0 or len(second) == 0:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=float)
    forward, separation, _ = first.match_to_catalog_sky(second)
    backward, _, _ = second.match_to_catalog_sky(first)
    i = np.arange(len(first))
    keep = (backward[forward] == i) & (separation.arcsec < radius_arcsec)
    return i[keep], np.asarray(forward[keep], dtype=np.int64), separation.arcsec[keep]
