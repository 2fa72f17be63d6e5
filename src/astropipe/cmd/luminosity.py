"""Luminosity functions: K histograms per colour interval, completeness weights, field subtraction (Dutra et al. 2003, Fig. 8).

Counts are per magnitude bin and scaled to the object area; the field
histogram is multiplied by A_object / A_field. Completeness from artificial
stars is applied per star as 1 / (c_H(H) c_K(K)) (a star must be found in
both bands), and not at all where either completeness is below the
configured level: those bins are reported as incomplete rather than
corrected by large, uncertain factors.
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray

__all__ = ["completeness_weights", "field_subtracted", "histogram", "luminosity_functions"]


def completeness_weights(c_h: NDArray[np.float64], c_k: NDArray[np.float64], level: float) -> NDArray[np.float64]:
    """1 / (c_H c_K) per star; NaN where either completeness is below ``level``."""
    product = np.asarray(c_h) * np.asarray(c_k)
    with np.errstate(divide="ignore"):
        return np.where((np.asarray(c_h) >= level) & (np.asarray(c_k) >= level), 1.0 / product, np.nan)


def histogram(
    mag: NDArray[np.float64], bins: NDArray[np.float64], weights: NDArray[np.float64] | None = None, scale: float = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(counts, Poisson errors) per bin, optionally completeness-weighted, times ``scale``.

    Bins containing a star with a NaN weight (below the completeness level) are NaN.
    """
    mag = np.asarray(mag, float)
    w = np.ones_like(mag) if weights is None else np.asarray(weights, float)
    counts, _ = np.histogram(mag, bins, weights=np.nan_to_num(w))
    variance, _ = np.histogram(mag, bins, weights=np.nan_to_num(w) ** 2)
    incomplete, _ = np.histogram(mag[~np.isfinite(w)], bins)
    counts = np.where(incomplete > 0, np.nan, counts)
    return counts * scale, np.sqrt(variance) * scale


def field_subtracted(
    object_counts: NDArray[np.float64],
    object_err: NDArray[np.float64],
    field_counts: NDArray[np.float64],
    field_err: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Object minus area-scaled field counts with errors added in quadrature."""
    return object_counts - field_counts, np.hypot(object_err, field_err)


def luminosity_functions(
    k: NDArray[np.float64],
    colour: NDArray[np.float64],
    region: NDArray[np.str_],
    weights: NDArray[np.float64],
    k_bins: NDArray[np.float64],
    intervals: dict[str, tuple[float, float]],
    field_scale: float,
) -> Table:
    """K luminosity functions of the object and the area-scaled field per colour interval, and their difference (Fig. 8).

    Parameters
    ----------
    k, colour : numpy.ndarray
        K and H - K of the stars (mag).
    region : numpy.ndarray of str
        ``"object"``, ``"field"`` or anything else (not counted) per star.
    weights : numpy.ndarray
        Completeness weights (:func:`completeness_weights`).
    k_bins : numpy.ndarray
        Bin edges in K (mag).
    intervals : dict
        Colour intervals by name, (lo, hi) exclusive, e.g. ``{"blue": (0.0, 0.6), "red": (0.6, 3.0)}``.
    field_scale : float
        A_object / A_field.

    Returns
    -------
    astropy.table.Table
        ``k_lo``, ``k_hi`` and, per interval name n and region w: ``n_w`` and ``n_w_err`` (counts per
        bin), ``n_w_corrected`` (completeness-weighted), ``n_subtracted`` and ``n_subtracted_corrected``
        (object minus scaled field), each with its ``_err``.
    """
    lf = Table({"k_lo": k_bins[:-1], "k_hi": k_bins[1:]})
    for name, (lo, hi) in intervals.items():
        in_colour = (colour > lo) & (colour < hi)
        for where, factor in (("object", 1.0), ("field", field_scale)):
            chosen = in_colour & (region == where)
            lf[f"{name}_{where}"], lf[f"{name}_{where}_err"] = histogram(k[chosen], k_bins, scale=factor)
            lf[f"{name}_{where}_corrected"], lf[f"{name}_{where}_corrected_err"] = histogram(
                k[chosen], k_bins, weights[chosen], scale=factor
            )
        for suffix in ("", "_corrected"):
            lf[f"{name}_subtracted{suffix}"], lf[f"{name}_subtracted{suffix}_err"] = field_subtracted(
                lf[f"{name}_object{suffix}"],
                lf[f"{name}_object{suffix}_err"],
                lf[f"{name}_field{suffix}"],
                lf[f"{name}_field{suffix}_err"],
            )
    lf.meta["description"] = "K histograms per colour interval; field counts scaled to the object area"
    return lf
