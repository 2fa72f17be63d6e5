"""Statistical field-star decontamination of a CMD (Zoccali et al. 2003, as used in Dutra et al. 2003, §3.3, Fig. 9).

The field CMD is scaled to the object area (a random subset of the field
stars, of size N_field x A_object / A_field); for each star of the scaled
field CMD the nearest still-present star of the object CMD, in

    d = sqrt([k Delta(H - K)]^2 + Delta H^2)        (k = 7 in the paper),

is removed, unless it is farther than ``max_distance``. Repeating this with
different random subsets and orders gives each object star a membership
probability: the fraction of repeats in which it survives.

With ``resample_field`` each repeat draws the scaled field as a bootstrap
sample (a Poisson number of stars, with replacement), so the probabilities
and any statistic computed per repeat (e.g. the tenth-brightest member) also
carry the sampling noise of the field CMD itself - at the bright end, where a
few tens of field stars are subtracted, that noise dominates.

Where the star counts rise steeply towards faint magnitudes, the nearest object
star of a bright field star is more often a fainter one, so bright object
stars - field stars among them - survive too often and the tenth-brightest
survivor comes out bright. :func:`equal_density_magnitudes` maps H to a scale
on which the object stars are evenly spaced, where the nearest neighbour is as
often brighter as fainter; the pipeline matches on that scale by default
(``magnitude_axis``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from astropipe.random_streams import random_stream

__all__ = ["Decontamination", "decontaminate", "equal_density_magnitudes"]


@dataclass
class Decontamination:
    """Result of the randomised decontamination.

    Attributes
    ----------
    probability : numpy.ndarray
        Fraction of repeats in which each object star survived.
    survivors : numpy.ndarray of bool, shape (repeats, n_object)
        Which object stars survived each repeat.
    n_subtracted : numpy.ndarray of int
        Field stars drawn (the scaled field CMD) in each repeat.
    n_unmatched : numpy.ndarray of int
        Scaled field stars with no object star within ``max_distance`` per repeat.
    """

    probability: NDArray[np.float64]
    survivors: NDArray[np.bool_]
    n_subtracted: NDArray[np.int64]
    n_unmatched: NDArray[np.int64]


def equal_density_magnitudes(h: NDArray[np.float64], reference_h: NDArray[np.float64]) -> NDArray[np.float64]:
    """H on a scale on which the reference stars are evenly spaced (mag).

    u(H) = H_min + (H_max - H_min) F(H), with F the reference stars' empirical
    distribution (star i of n in order of H at (i + 1/2) / n, linear in between,
    0 and 1 beyond the brightest and the faintest): the reference stars keep
    their range and mean density along the magnitude axis, but the density is
    the same everywhere on it. Bright, sparse magnitudes are drawn together and
    faint, crowded ones spread apart, so a nearest neighbour in
    d = sqrt([k Delta(H - K)]^2 + Delta u^2) lies brighter as often as fainter.

    Parameters
    ----------
    h : numpy.ndarray
        Magnitudes to map (mag), e.g. the object or the field stars' H.
    reference_h : numpy.ndarray
        The stars that set the scale (mag): the object area's.
    """
    ordered = np.sort(np.asarray(reference_h, float))
    if ordered.size < 2 or ordered[-1] == ordered[0]:
        raise ValueError(f"an equal-density magnitude scale needs stars of >= 2 magnitudes; got {ordered.size} stars")
    rank = (np.arange(ordered.size) + 0.5) / ordered.size
    return ordered[0] + (ordered[-1] - ordered[0]) * np.interp(np.asarray(h, float), ordered, rank, left=0.0, right=1.0)


def _one_repeat(
    obj: NDArray,
    field: NDArray,
    area_ratio: float,
    k: float,
    max_distance: float,
    resample: bool,
    rng: np.random.Generator,
) -> tuple[NDArray[np.bool_], int, int]:
    expected = field.shape[0] * area_ratio
    if resample:
        n_draw = int(rng.poisson(expected))
        chosen = rng.choice(field.shape[0], size=n_draw, replace=True)
    else:
        n_draw = int(np.floor(expected)) + int(rng.random() < expected - np.floor(expected))
        chosen = rng.choice(field.shape[0], size=n_draw, replace=n_draw > field.shape[0])
    alive = np.ones(obj.shape[0], dtype=bool)
    colour_diff_scale = np.array([k, 1.0])
    scaled_obj = obj * colour_diff_scale
    unmatched = 0
    for star in field[chosen] * colour_diff_scale:
        d2 = np.sum((scaled_obj - star) ** 2, axis=1)
        d2[~alive] = np.inf
        nearest = int(np.argmin(d2))
        if d2[nearest] <= max_distance**2:
            alive[nearest] = False
        else:
            unmatched += 1
    return alive, n_draw, unmatched


def decontaminate(
    object_hk: NDArray[np.float64],
    object_h: NDArray[np.float64],
    field_hk: NDArray[np.float64],
    field_h: NDArray[np.float64],
    area_ratio: float,
    colour_weight: float = 7.0,
    max_distance: float = np.inf,
    repeats: int = 100,
    seed: int | tuple[int, ...] = 0,
    resample_field: bool = True,
) -> Decontamination:
    """Randomised Zoccali-style decontamination of the object CMD by the field CMD.

    Parameters
    ----------
    object_hk, object_h : numpy.ndarray
        H - K and H (mag) of the stars in the object area.
    field_hk, field_h : numpy.ndarray
        The same for the field stars.
    area_ratio : float
        A_object / A_field (usable areas).
    colour_weight : float
        k of the distance d (paper 7).
    max_distance : float
        Largest d (mag) at which a field star removes an object star.
    repeats : int
        Randomised repeats (different field subsets and orders).
    seed : int or tuple of int
        Repeat r uses ``random_stream(*seed, r)``: results do not depend on how repeats are batched.
    resample_field : bool
        Bootstrap the field CMD in every repeat (see the module notes); False
        draws exactly the area-scaled number of distinct field stars (the paper).
    """
    if not area_ratio > 0:
        raise ValueError(f"area ratio A_object / A_field = {area_ratio}; expected > 0")
    obj = np.column_stack([object_hk, object_h]).astype(float)
    field = np.column_stack([field_hk, field_h]).astype(float)
    for name, values in (("object", obj), ("field", field)):
        if not np.all(np.isfinite(values)):
            raise ValueError(
                f"{name} stars with non-finite H or H - K: {int((~np.isfinite(values)).any(axis=1).sum())}"
            )
    survivors = np.empty((repeats, obj.shape[0]), dtype=bool)
    n_subtracted = np.empty(repeats, dtype=np.int64)
    n_unmatched = np.empty(repeats, dtype=np.int64)
    for r in range(repeats):
        rng = random_stream(*np.atleast_1d(seed).tolist(), r)
        survivors[r], n_subtracted[r], n_unmatched[r] = _one_repeat(
            obj, field, area_ratio, colour_weight, max_distance, resample_field, rng
        )
    return Decontamination(
        probability=survivors.mean(axis=0), survivors=survivors, n_subtracted=n_subtracted, n_unmatched=n_unmatched
    )
