"""The background's differential reddening across a field, mapped from the bulge giants' colours.

Both decontaminations take the field region beyond the object disc to stand for the field stars inside it. Where
the foreground extinction varies across the frame, as it does towards the inner Galaxy, the bulge giants behind
the object disc are reddened differently from those in the field region, and the field region's CMD is shifted
along the reddening vector from the one it should subtract. The correction follows the differential-reddening
method of Milone et al. (2012, A&A 540, A16, §3): the bulge giants, a sequence nearly vertical in (H - K, K),
are the reference stars; each one's offset from the sequence's fiducial locus is measured along the reddening
vector; every star's local offset is the median over its ``neighbours`` nearest reference stars; and every star
is moved back along the vector by its local offset, so that all of them are put behind the frame's median
foreground. The fiducial is the running median colour of the reference stars in magnitude bins, re-derived from
the corrected colours and with the outliers of the sequence clipped, a few times.

Along the reddening vector a shift of E(H - K) = d moves a star by (d, A_K/E(H - K) d) in (H - K, K); a star at
colour c and magnitude K lies d = (c - c_L(K)) / (1 - a s) from the locus c_L of slope s = dc_L/dK,
a = A_K/E(H - K).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray
from scipy.spatial import cKDTree

__all__ = ["BackgroundReddening", "background_reddening_step", "deredden_cmd_stars", "map_background_reddening"]

LOCUS_BIN_MAG = 0.5  # magnitude bins of the fiducial locus
MIN_STARS_PER_BIN = 10  # a bin's median colour is used from this many reference stars
CLIP_SIGMA = 3.0  # reference stars farther than this from the locus (robust sigma) are left out
ITERATIONS = 3
#: ``auto`` applies the map when its offsets' rms exceeds the noise of a uniform foreground's map by this factor.
#: Chosen on the four tuning nights of the imaging validation (no screen: 1.04-1.38, the cluster's members and the
#: photometry's own variation across the stack raising it above 1) and on 30 simulated Object 11 scenes with their
#: errors (no screen: 0.8-1.2; behind a screen of E(H - K) rms 0.1 mag and 30" correlation: 1.3-5, above 2 on 29)
VARYING_FOREGROUND_RATIO = 2.0


@dataclass(frozen=True)
class BackgroundReddening:
    """The local E(H - K) offset of each star from the frame's median foreground, and what it was measured from.

    Attributes
    ----------
    offset : ndarray
        E(H - K) offset (mag) at each star, the median of its nearest reference stars' offsets.
    reference : ndarray of bool
        The stars used as reference (the bulge giants' sequence after clipping).
    locus_k, locus_colour : ndarray
        The fiducial locus: median H - K (mag) of the corrected reference stars at K (mag), bin centres.
    neighbours : int
        Reference stars per local median.
    sequence_spread : float
        Robust standard deviation (mag) of the reference stars' offsets about their local medians: the colour
        scatter of the sequence (intrinsic and measured) that each local median averages down.
    """

    offset: NDArray[np.float64]
    reference: NDArray[np.bool_]
    locus_k: NDArray[np.float64]
    locus_colour: NDArray[np.float64]
    neighbours: int
    sequence_spread: float

    @property
    def noise(self) -> float:
        """The rms (mag) a uniform foreground's map would have: the error of a median of ``neighbours`` values of
        spread ``sequence_spread``, sqrt(pi / 2) sigma / sqrt(n)."""
        return float(np.sqrt(np.pi / 2.0) * self.sequence_spread / np.sqrt(self.neighbours))

    @property
    def significance(self) -> float:
        """The offsets' rms over the noise of a uniform foreground's map (about 1 where the foreground is
        uniform)."""
        return float(np.std(self.offset) / self.noise)

    @property
    def varies_across_field(self) -> bool:
        """Whether the offsets' rms exceeds a uniform foreground's by VARYING_FOREGROUND_RATIO (``auto`` applies the
        map then)."""
        return self.significance >= VARYING_FOREGROUND_RATIO

    def deredden(
        self, h: NDArray[np.float64], hk: NDArray[np.float64], ak_per_ehk: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(H, H - K) (mag) of the stars moved back along the reddening vector by their local offset."""
        return np.asarray(h) - (ak_per_ehk + 1.0) * self.offset, np.asarray(hk) - self.offset


def map_background_reddening(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    k: NDArray[np.float64],
    hk: NDArray[np.float64],
    candidates: NDArray[np.bool_],
    ak_per_ehk: float,
    neighbours: int = 30,
) -> BackgroundReddening:
    """Map the background's differential reddening from the reference sequence's colours (Milone et al. 2012).

    Parameters
    ----------
    x, y : ndarray
        Star positions (any unit common to both; only the neighbours' order is used).
    k, hk : ndarray
        K and H - K (mag).
    candidates : ndarray of bool
        Stars that may serve as reference: the bulge giants' part of the CMD (e.g. redder than the colour
        valley and brighter than the completeness limits).
    ak_per_ehk : float
        Extinction law A_K / E(H - K) (Dutra et al. 2003: 1.436).
    neighbours : int
        Reference stars in each local median: its noise falls as 1 / sqrt(neighbours), its resolution
        (the area they cover) coarsens in proportion.

    Returns
    -------
    BackgroundReddening

    Raises
    ------
    ValueError
        With fewer than ``neighbours`` + 1 candidate stars, or too few in every magnitude bin to draw a locus.
    """
    x, y, k, hk = (np.asarray(a, float) for a in (x, y, k, hk))
    reference = np.asarray(candidates, bool) & np.isfinite(k) & np.isfinite(hk)
    if reference.sum() <= neighbours:
        raise ValueError(
            f"background reddening: {int(reference.sum())} reference stars, expected more than the "
            f"{neighbours} neighbours of each local median"
        )
    offset = np.zeros(k.size)
    for _ in range(ITERATIONS):
        locus_k, locus_colour = _locus(k[reference] - ak_per_ehk * offset[reference], hk[reference] - offset[reference])
        along = _offset_along_vector(k, hk, locus_k, locus_colour, ak_per_ehk)
        offset = _local_median(x, y, along, reference, neighbours)
        residual = along - offset
        spread = 1.4826 * np.median(np.abs(residual[reference] - np.median(residual[reference])))
        reference &= np.abs(residual) <= CLIP_SIGMA * spread
    return BackgroundReddening(
        offset - np.median(offset[reference]), reference, locus_k, locus_colour, neighbours, spread
    )


def _locus(k: NDArray[np.float64], hk: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Median colour in magnitude bins holding at least MIN_STARS_PER_BIN stars (bin centres, medians)."""
    edges = np.arange(np.floor(k.min()), np.ceil(k.max()) + LOCUS_BIN_MAG, LOCUS_BIN_MAG)
    index = np.digitize(k, edges) - 1
    centres, medians = [], []
    for i in range(edges.size - 1):
        in_bin = index == i
        if in_bin.sum() >= MIN_STARS_PER_BIN:
            centres.append(np.median(k[in_bin]))
            medians.append(np.median(hk[in_bin]))
    if len(centres) < 2:
        raise ValueError(
            f"background reddening: fewer than two {LOCUS_BIN_MAG}-mag bins hold {MIN_STARS_PER_BIN} reference "
            "stars; the reference sequence's locus cannot be drawn"
        )
    return np.asarray(centres), np.asarray(medians)


def _offset_along_vector(
    k: NDArray[np.float64],
    hk: NDArray[np.float64],
    locus_k: NDArray[np.float64],
    locus_colour: NDArray[np.float64],
    ak_per_ehk: float,
) -> NDArray[np.float64]:
    """E(H - K) that moves each star onto the locus along the reddening vector (the locus taken straight locally;
    flat beyond its ends)."""
    slope = np.interp(k, 0.5 * (locus_k[1:] + locus_k[:-1]), np.diff(locus_colour) / np.diff(locus_k))
    return (hk - np.interp(k, locus_k, locus_colour)) / (1.0 - ak_per_ehk * slope)


def _local_median(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    values: NDArray[np.float64],
    reference: NDArray[np.bool_],
    neighbours: int,
) -> NDArray[np.float64]:
    """Median of ``values`` over each star's ``neighbours`` nearest reference stars, itself left out."""
    positions = np.column_stack([x, y])
    index = np.flatnonzero(reference)
    _, nearest = cKDTree(positions[index]).query(positions, k=neighbours + 1)
    nearest_index = index[nearest]  # (stars, neighbours + 1)
    is_self = nearest_index == np.arange(x.size)[:, None]
    # a reference star drops itself; any other star drops its farthest neighbour
    keep = np.where(is_self.any(axis=1)[:, None], ~is_self, np.arange(neighbours + 1) < neighbours)
    picked = values[nearest_index[keep].reshape(x.size, neighbours)]
    return np.median(picked, axis=1)


def deredden_cmd_stars(
    stars: Table,
    boundary_hk: float,
    limits: tuple[float, float],
    ak_per_ehk: float,
    neighbours: int,
    positions: tuple[str, str] = ("x_ks", "y_ks"),
) -> tuple[Table, BackgroundReddening]:
    """The CMD's stars put behind the frame's median foreground, with the map that moved them.

    The reference stars are those redder than the colour valley ``boundary_hk`` (the bulge giants' side of the
    CMD, Dutra et al. 2003, Fig. 9) and brighter than both completeness limits ``limits`` = (H, K) (mag).

    Returns
    -------
    (astropy.table.Table, BackgroundReddening)
        A copy of ``stars`` with ``H``, ``K`` and ``HK`` dereddened, the measured values kept as ``H_observed``,
        ``K_observed``, ``HK_observed`` and each star's offset as ``e_hk_background`` (mag); and the map.
    """
    h, k, hk = (np.asarray(stars[c], float) for c in ("H", "K", "HK"))
    candidates = (hk > boundary_hk) & (h < limits[0]) & (k < limits[1])
    x, y = (np.asarray(stars[c], float) for c in positions)
    background = map_background_reddening(x, y, k, hk, candidates, ak_per_ehk, neighbours)
    dereddened_h, dereddened_hk = background.deredden(h, hk, ak_per_ehk)
    out = stars.copy()
    for column, value in (("H", dereddened_h), ("K", dereddened_h - dereddened_hk), ("HK", dereddened_hk)):
        out[f"{column}_observed"] = stars[column]
        out[column][:] = value  # in place: the unit stays
        out[column].description = f"put behind the frame's median foreground; {stars[column].description or column}"
    out["e_hk_background"] = background.offset
    out["e_hk_background"].unit = "mag"
    out["e_hk_background"].description = "local E(H-K) offset from the frame's median foreground (bulge giants)"
    return out, background


def background_reddening_step(
    stars: Table,
    boundary_hk: float,
    limits: tuple[float, float],
    ak_per_ehk: float,
    settings: dict,
    *,
    source: str = "the CMD's stars",
    positions: tuple[str, str] = ("x_ks", "y_ks"),
) -> tuple[Table, dict]:
    """The decontamination's first step: the stars behind the frame's median foreground where it varies.

    Parameters
    ----------
    stars : astropy.table.Table
        The CMD's stars (``H``, ``K``, ``HK``, positions; ``region`` object/field for the report's medians).
    boundary_hk, limits, ak_per_ehk
        As for :func:`deredden_cmd_stars`.
    settings : dict
        ``imaging.cmd.decontamination.background_reddening``: ``mode`` ``never``, ``always`` or ``auto`` (applied
        where :attr:`BackgroundReddening.varies_across_field`), ``neighbours``.
    source : str
        What the stars are, for the error message.

    Returns
    -------
    (astropy.table.Table, dict)
        The stars (dereddened where applied, else ``stars`` itself) and the report of ``decontamination.json``.

    Raises
    ------
    ValueError
        With ``mode: always``, where the map cannot be drawn (too few reference stars); ``auto`` then leaves the
        stars as measured and says why in the report.
    """
    mode = settings["mode"]
    if mode == "never":
        return stars, {"mode": mode, "applied": False}
    try:
        dereddened, background = deredden_cmd_stars(
            stars, boundary_hk, limits, ak_per_ehk, settings["neighbours"], positions
        )
    except ValueError as error:
        if mode == "always":
            raise ValueError(f"{source}: {error} (background_reddening.mode: always)") from error
        return stars, {"mode": mode, "applied": False, "not_mapped": str(error)}
    applied = mode == "always" or background.varies_across_field
    offset = background.offset
    region = np.asarray(stars["region"]) if "region" in stars.colnames else np.full(len(stars), "")
    return (dereddened if applied else stars), {
        "mode": mode,
        "applied": bool(applied),
        "neighbours": background.neighbours,
        "n_reference": int(background.reference.sum()),
        "offset_rms_mag": float(np.std(offset)),
        "uniform_foreground_rms_mag": background.noise,
        "significance": background.significance,
        "offset_range_mag": [float(np.min(offset)), float(np.max(offset))],
        "object_area_median_offset_mag": float(np.median(offset[region == "object"]))
        if (region == "object").any()
        else None,
        "field_region_median_offset_mag": float(np.median(offset[region == "field"]))
        if (region == "field").any()
        else None,
    }
