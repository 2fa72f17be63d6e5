"""Reddening towards the object: the bulge red clump in front, the cluster's upper main sequence (Dutra et al. 2003, §3.3).

* Foreground: the red clump of the bulge is found in the red sequence of
  the field CMD; its colour against the intrinsic clump colour of the
  b = -6 deg reference field ((H - K)_0 = 0.15, K_0 = 12.53; Zoccali et al.
  2003) gives the reddening in front of the bulge, E(H - K) = (H - K)_clump -
  (H - K)_0, and its K the relative distance modulus.
* Cluster: E(H - K) = median observed colour of the upper main sequence's
  members minus its intrinsic colour (Cotera et al. 2000: -0.07 for B0V), the
  candidates weighted by their membership probabilities; the intrinsic spread of
  the colours (photometric errors removed) measures the differential reddening;
  for a uniform spread of half-width w, sigma = w / sqrt(3). The upper main
  sequence ends at a reddening-free magnitude K - A_K/E(H - K) x (H - K), not at
  a K: a cut in K keeps the less reddened members to fainter intrinsic
  magnitudes than the more reddened ones, and with a luminosity function rising
  towards the cut their median colour is biased blue (by -ln(cosh(k w)) / k,
  k = ln(10) alpha A_K/E(H - K), for a luminosity function 10^(alpha K) and a
  uniform spread of half-width w: -0.08 mag for alpha = 0.4, w = 0.35).
* A_K = law x E(H - K) with law = 1.436 in the paper (configurable), and
  A_V = A_K x A_V/A_K (Schlegel et al. 1998 ratios: 3.315 / 0.367 = 9.03).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from astropy.stats import mad_std
from numpy.typing import NDArray

__all__ = [
    "ClumpReddening",
    "ClusterReddening",
    "UpperSequenceReddening",
    "clump_reddening",
    "cluster_reddening",
    "extinction_k",
    "upper_main_sequence_box",
    "upper_main_sequence_reddening",
    "weighted_median",
]

#: most steps of :func:`upper_main_sequence_reddening` moving the box's faint edge to the candidates' median colour
MAX_BOX_ITERATIONS = 20
#: the box has settled when its stars' median colour is this close to the colour it was drawn through (mag)
BOX_TOLERANCE_MAG = 1e-3


def extinction_k(e_hk: float, law: float) -> float:
    """A_K = law x E(H - K) (mag); Dutra et al. 2003 uses law = 1.436."""
    return law * e_hk


@dataclass
class ClumpReddening:
    """Foreground reddening from the bulge red clump (mag)."""

    clump_hk: float
    clump_hk_err: float
    clump_k: float
    e_hk: float
    e_hk_err: float
    a_k: float
    a_k_err: float
    delta_hk_reference: float
    relative_distance_modulus: float
    n_stars: int

    def as_dict(self) -> dict:
        """JSON-ready (all values in mag)."""
        return asdict(self)


def clump_reddening(
    k: NDArray[np.float64],
    hk: NDArray[np.float64],
    k0: float,
    hk0: float,
    hk_reference: float,
    law: float,
    min_colour: float,
    half_width: float = 0.5,
    iterations: int = 10,
    min_stars: int = 20,
) -> ClumpReddening:
    """Colour and magnitude of the bulge red clump in a field CMD, and the foreground reddening.

    Starting from the median colour of the red sequence (H - K > ``min_colour``),
    E = (H - K) - (H - K)_0, the clump is predicted at K = K_0 + law E and the
    median colour of red-sequence stars within ``half_width`` of it gives a new
    E, until E stops changing. The clump K is the peak of the smoothed K distribution in the
    window.

    Parameters
    ----------
    k, hk : numpy.ndarray
        Field-region stars (mag).
    k0, hk0 : float
        Dereddened clump K and intrinsic colour of the reference field (12.53, 0.15).
    hk_reference : float
        Observed clump colour of the reference field (0.25): the paper's Delta(H - K) is measured from it.
    law : float
        A_K / E(H - K).
    min_colour : float
        Bluest colour of the red (bulge) sequence.
    half_width : float
        K window around the predicted clump, mag.
    min_stars : int
        Fewest red-sequence stars in the window (the clump colour's error is 1.2533 MAD / sqrt(n)).

    Raises
    ------
    ValueError
        Fewer than ``min_stars`` red-sequence stars in the window.
    """
    k, hk = np.asarray(k, float), np.asarray(hk, float)
    red = np.isfinite(k) & np.isfinite(hk) & (hk > min_colour)
    # start from the red sequence's median colour, not from E = 0: behind E(H-K) = 0.7 the clump lies 1 mag
    # below its unreddened K, and a window there holds only the sequence's bright tail
    e_hk = max(float(np.median(hk[red])) - hk0, 0.0) if red.any() else 0.0
    for _ in range(iterations):
        window = red & (np.abs(k - (k0 + law * e_hk)) < half_width)
        if window.sum() < min_stars:
            raise ValueError(
                f"{int(window.sum())} red-sequence stars near the predicted clump K = {k0 + law * e_hk:.2f}; "
                f"at least {min_stars} needed to measure the foreground reddening "
                "(imaging.distance.clump_reference.min_stars)"
            )
        new = float(np.median(hk[window])) - hk0
        if abs(new - e_hk) < 1e-4:
            e_hk = new
            break
        e_hk = new
    colours = hk[window]
    clump_hk = hk0 + e_hk
    clump_hk_err = float(1.2533 * mad_std(colours) / np.sqrt(colours.size))
    grid = np.linspace(k0 + law * e_hk - half_width, k0 + law * e_hk + half_width, 201)
    density = np.exp(-0.5 * ((grid[:, None] - k[window]) / 0.1) ** 2).sum(axis=1)
    clump_k = float(grid[np.argmax(density)])
    a_k = extinction_k(e_hk, law)
    return ClumpReddening(
        clump_hk=clump_hk,
        clump_hk_err=clump_hk_err,
        clump_k=clump_k,
        e_hk=e_hk,
        e_hk_err=clump_hk_err,
        a_k=a_k,
        a_k_err=law * clump_hk_err,
        delta_hk_reference=clump_hk - hk_reference,
        relative_distance_modulus=clump_k - a_k - k0,
        n_stars=int(colours.size),
    )


@dataclass
class ClusterReddening:
    """Reddening of the cluster from its upper main sequence (mag)."""

    mean_hk: float
    e_hk: float
    e_hk_err: float
    e_hk_spread: float
    e_hk_halfwidth: float
    n_stars: int
    n_members: float

    def as_dict(self) -> dict:
        """JSON-ready (all values in mag)."""
        return asdict(self)


def weighted_median(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    """The value where the weights summed in order of ``values`` reach half their total (midpoint rule).

    With equal weights this is :func:`numpy.median`.
    """
    order = np.argsort(values)
    values, weights = values[order], weights[order]
    midpoints = np.cumsum(weights) - 0.5 * weights
    return float(np.interp(0.5 * weights.sum(), midpoints, values))


def _clipped_weighted_std(
    values: NDArray[np.float64], weights: NDArray[np.float64], sigma: float = 3.0, iterations: int = 10
) -> float:
    """Weighted standard deviation about the weighted median, clipped at ``sigma`` until no value is dropped."""
    keep = np.ones(values.size, bool)
    for _ in range(iterations):
        centre = weighted_median(values[keep], weights[keep])
        std = float(np.sqrt(np.average((values[keep] - centre) ** 2, weights=weights[keep])))
        clipped = np.abs(values - centre) <= sigma * std
        if np.array_equal(clipped, keep) or clipped.sum() < 3:
            break
        keep = clipped
    return std


def cluster_reddening(
    hk: NDArray[np.float64],
    hk_err: NDArray[np.float64],
    intrinsic_hk: float,
    weights: NDArray[np.float64] | None = None,
) -> ClusterReddening:
    """E(H - K) and its differential spread from upper-main-sequence colours.

    Parameters
    ----------
    hk, hk_err : numpy.ndarray
        Observed colours of the upper-main-sequence candidates and their random errors (mag).
    intrinsic_hk : float
        Intrinsic colour of those stars (Cotera et al. 2000: -0.07 for B0V).
    weights : numpy.ndarray, optional
        Each candidate's membership probability. With calibrated probabilities the candidates' colour
        distribution weighted by them is, in expectation, the members' (a field star where members are
        rare counts with the small probability that it is one). Default: every candidate a member.

    Returns
    -------
    ClusterReddening
        ``e_hk`` = (weighted) median colour - intrinsic; ``e_hk_spread`` the intrinsic
        (error-deconvolved, 3-sigma-clipped) weighted standard deviation; ``e_hk_halfwidth`` = sqrt(3) x
        spread, the half-width of a uniform spread (the paper's +-0.35); ``n_members`` = sum of the
        weights, the expected number of members (n when every weight is 1); ``e_hk_err`` = 1.2533 sigma /
        sqrt(n_members), the median's error.

    Raises
    ------
    ValueError
        Fewer than 5 members expected (sum of the weights).
    """
    hk, hk_err = np.asarray(hk, float), np.asarray(hk_err, float)
    weights = np.ones(hk.size) if weights is None else np.nan_to_num(np.asarray(weights, float))
    good = np.isfinite(hk) & np.isfinite(hk_err) & (weights > 0)
    hk, hk_err, weights = hk[good], hk_err[good], weights[good]
    n_members = float(weights.sum())
    if n_members < 5:
        raise ValueError(
            f"{n_members:.1f} upper-main-sequence members expected (sum of the membership probabilities); "
            "at least 5 needed for the cluster reddening"
        )
    median = weighted_median(hk, weights)
    # a clipped standard deviation (3 sigma) keeps the flat wings of a uniform spread, which a
    # MAD-based sigma would underestimate by 22 %
    sigma = _clipped_weighted_std(hk, weights)
    spread = float(np.sqrt(max(sigma**2 - weighted_median(hk_err, weights) ** 2, 0.0)))
    return ClusterReddening(
        mean_hk=median,
        e_hk=median - intrinsic_hk,
        e_hk_err=float(1.2533 * sigma / np.sqrt(n_members)),
        e_hk_spread=spread,
        e_hk_halfwidth=float(np.sqrt(3.0) * spread),
        n_stars=int(hk.size),
        n_members=n_members,
    )


def upper_main_sequence_box(
    k: NDArray[np.float64], hk: NDArray[np.float64], faint_k: float, boundary: float, *, law: float, reference_hk: float
) -> NDArray[np.bool_]:
    """Stars of the upper main sequence's range: redder than the colour valley ``boundary`` (H - K, mag) and no
    fainter than ``faint_k`` in the reddening-free magnitude K - ``law`` x (H - K - ``reference_hk``).

    The faint edge runs along the reddening vector through (``reference_hk``, ``faint_k``): a star reddened by
    dE more than one at the reference colour is kept to ``law`` x dE fainter in K, the same intrinsic
    magnitude. ``law`` = 0 gives the cut K <= ``faint_k``.
    """
    k, hk = np.asarray(k, float), np.asarray(hk, float)
    return (k - law * (hk - reference_hk) <= faint_k) & (hk > boundary)


@dataclass
class UpperSequenceReddening:
    """The cluster reddening of :func:`upper_main_sequence_reddening` and the box it was measured in."""

    cluster: ClusterReddening
    selected: NDArray[np.bool_]  # the candidates in the box
    reference_hk: float  # mag: the colour at which the box's faint edge is at faint_k
    converged: bool  # whether the box settled within MAX_BOX_ITERATIONS


def upper_main_sequence_reddening(
    k: NDArray[np.float64],
    hk: NDArray[np.float64],
    hk_err: NDArray[np.float64],
    weights: NDArray[np.float64],
    *,
    faint_k: float,
    boundary: float,
    law: float,
    intrinsic_hk: float,
) -> UpperSequenceReddening:
    """:func:`cluster_reddening` of the stars in :func:`upper_main_sequence_box`, its edge through their median colour.

    Starting from the stars with K <= ``faint_k``, the box's reference colour is set to the weighted median colour
    of the stars in it, and the box redrawn, until that colour moves by less than :data:`BOX_TOLERANCE_MAG`.

    The weights are the mixture model's membership probabilities, not the members the paper's decontamination
    keeps: that removes the bluer members, which share the CMD with the bulge giants, as often as the giants,
    and keeps the redder ones with the field stars that found no field counterpart, so their median colour is
    biased red (by up to 0.25 mag on simulated nights). The mixture probabilities are calibrated (they sum to the
    expected number of members), so the candidates weighted by them have, in expectation, the members' colour
    distribution.

    Parameters
    ----------
    k, hk, hk_err : numpy.ndarray
        Candidates' K, H - K and H - K error (mag).
    weights : numpy.ndarray
        Membership probabilities; NaN where a star is not a candidate (e.g. below the completeness limits).
    faint_k : float
        Faint edge of the box at the reference colour (mag; K10 + ``upper_ms_depth_mag``).
    boundary : float
        The colour valley between the field's blue and red sequences (mag).
    law : float
        A_K / E(H - K).
    intrinsic_hk : float
        Intrinsic colour of the upper main sequence (mag).

    Raises
    ------
    ValueError
        From :func:`cluster_reddening`: fewer than 5 members expected in the box.
    """
    k, hk, hk_err, weights = (np.asarray(a, float) for a in (k, hk, hk_err, weights))
    candidate = np.isfinite(weights)

    def measured_in(selected: NDArray[np.bool_]) -> ClusterReddening:
        return cluster_reddening(hk[selected], hk_err[selected], intrinsic_hk, weights=weights[selected])

    reference_hk = measured_in(candidate & (k <= faint_k) & (hk > boundary)).mean_hk
    for _ in range(MAX_BOX_ITERATIONS):
        drawn_with = reference_hk
        selected = candidate & upper_main_sequence_box(k, hk, faint_k, boundary, law=law, reference_hk=drawn_with)
        cluster = measured_in(selected)
        reference_hk = cluster.mean_hk
        if abs(reference_hk - drawn_with) < BOX_TOLERANCE_MAG:
            return UpperSequenceReddening(cluster, selected, drawn_with, converged=True)
    return UpperSequenceReddening(cluster, selected, drawn_with, converged=False)
