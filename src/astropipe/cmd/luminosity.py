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
from numpy.typing import NDArray

__all__ = ["completeness_weights", "field_subtracted", "histogram"]


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
    object_counts: NDArray[np.float64], object_err: NDArray[np.float64],
    field_counts: NDArray[np.float64], field_err: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Object minus area-scaled field counts with errors added in quadrature."""
    return object_counts - field_counts, np.hypot(object_err, field_err)
