"""Saturated stars: their cores, and which fitted star is the one on each.

A saturated star's core is the connected group of its saturated pixels; its
radius, sqrt(area / pi), grows with the star's brightness. The fit of such a
star must reach beyond it: within the ordinary fitting radius (1 FWHM) a core
of a few FWHM leaves no usable pixel, and on simulated SOFI nights the stars
brighter than K = 9 came out 0.8-1.5 mag faint, or were dropped, their wings
left in the subtracted image, and a quarter to a half of the stars brighter
than 10th magnitude were split into two or three pieces. Each core therefore
carries exactly one star (the one nearest its centroid; the others on it are
pieces of the same star, and a core the detection missed - DAOFIND's
sharpness cut rejects some flat tops - gets one at its centroid), which the
photometry fits over the largest core's radius plus the fitting radius with
the saturated pixels left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy.spatial import cKDTree

__all__ = ["SaturatedCores"]


@dataclass(frozen=True)
class SaturatedCores:
    """The connected groups of saturated pixels of an image.

    Attributes
    ----------
    x, y : numpy.ndarray
        Centroids of the cores (0-based pixels).
    radius : numpy.ndarray
        sqrt(area / pi) of each core (pixels).
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    radius: NDArray[np.float64]

    @classmethod
    def from_mask(cls, saturated: NDArray[np.bool_]) -> SaturatedCores:
        """The cores of the saturated pixels ``saturated`` (not dilated).

        Examples
        --------
        >>> import numpy as np
        >>> mask = np.zeros((20, 20), bool)
        >>> mask[4:7, 4:7] = True
        >>> mask[15, 12] = True
        >>> cores = SaturatedCores.from_mask(mask)
        >>> cores.x.tolist(), cores.y.tolist(), np.round(cores.radius, 2).tolist()
        ([5.0, 12.0], [5.0, 15.0], [1.69, 0.56])
        """
        labels, n_cores = ndimage.label(saturated)
        index = np.arange(1, n_cores + 1)
        area = np.asarray(ndimage.sum_labels(saturated, labels, index), float)
        centres = np.asarray(ndimage.center_of_mass(saturated, labels, index), float).reshape(-1, 2)
        return cls(x=centres[:, 1], y=centres[:, 0], radius=np.sqrt(area / np.pi))

    def claim(
        self, star_x: NDArray[np.float64], star_y: NDArray[np.float64], fwhm: float
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Which star sits on which core.

        A star sits on a core when it lies within the core's radius plus half a FWHM of its centroid;
        the nearest one is the core's star, the others within the core's radius are its pieces.

        Parameters
        ----------
        star_x, star_y : numpy.ndarray
            Positions of the stars (pixels).
        fwhm : float
            PSF FWHM, pixels.

        Returns
        -------
        owner : numpy.ndarray of int
            Per core, the index of its star, or -1 where none sits on it.
        pieces : numpy.ndarray of int
            Indices of the stars that are pieces of a core's star.
        core_of_star : numpy.ndarray of int
            Per star, the core it owns, or -1.

        Examples
        --------
        A 5 x 5 core (radius 2.8 px): the star nearest its centre owns it, one 2 px away is a piece of
        it, one 10 px away is a star of its own.

        >>> import numpy as np
        >>> mask = np.zeros((30, 30), bool)
        >>> mask[8:13, 8:13] = True
        >>> owner, pieces, core_of_star = SaturatedCores.from_mask(mask).claim(
        ...     np.array([10.3, 12.0, 20.0]), np.array([9.8, 10.0, 10.0]), fwhm=4.0
        ... )
        >>> owner.tolist(), pieces.tolist(), core_of_star.tolist()
        ([0], [1], [0, -1, -1])
        """
        owner = np.full(self.x.size, -1)
        core_of_star = np.full(np.size(star_x), -1)
        pieces: list[int] = []
        if self.x.size == 0 or np.size(star_x) == 0:
            return owner, np.zeros(0, dtype=int), core_of_star
        tree = cKDTree(np.column_stack([star_x, star_y]))
        distance, nearest = tree.query(np.column_stack([self.x, self.y]))
        sits = np.flatnonzero(distance <= self.radius + 0.5 * fwhm)
        _, first = np.unique(nearest[sits], return_index=True)  # a star owns one core: the first
        sits = sits[np.sort(first)]
        owner[sits] = nearest[sits]
        core_of_star[nearest[sits]] = sits
        for core, within in enumerate(tree.query_ball_point(np.column_stack([self.x, self.y]), self.radius)):
            pieces.extend(j for j in within if j != owner[core] and core_of_star[j] < 0)
        return owner, np.unique(np.asarray(pieces, dtype=int)), core_of_star
