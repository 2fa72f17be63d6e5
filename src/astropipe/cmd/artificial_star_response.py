"""The photometric response measured by artificial stars, at calibrated magnitudes.

The artificial-star tests of a stack (``astropipe.photometry.artificial_stars``)
give the fraction of injected stars recovered and the error mag_out - mag_in
of each recovered one. In a crowded field this error, not the formal PSF-fit
error, is the random error of a star's magnitude: it includes the light of
unresolved neighbours and the sky errors under them, and it has a long tail
(Stetson & Harris 1988). These helpers evaluate the completeness, for the
luminosity functions (Dutra et al. 2003, Fig. 8), and the whole distribution of the
H - K error, for the mixture-model membership.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

__all__ = ["ColourErrorDistribution", "colour_error_distribution", "completeness_at", "completeness_model"]


def completeness_at(table: Table, mag: NDArray[np.float64], offset: float) -> NDArray[np.float64]:
    """Completeness of an artificial-star table at calibrated magnitudes.

    Parameters
    ----------
    table : astropy.table.Table
        ``mag_lo``, ``mag_hi``, ``completeness`` in instrumental magnitudes.
    mag : numpy.ndarray
        Calibrated magnitudes.
    offset : float
        Calibrated minus instrumental magnitude (mag).

    Returns
    -------
    numpy.ndarray
        Linear interpolation between bin centres; the brightest bin's value above them, 0 below the faintest.
    """
    centre = 0.5 * (np.asarray(table["mag_lo"], float) + np.asarray(table["mag_hi"], float)) + offset
    value = np.asarray(table["completeness"], float)
    return np.interp(np.asarray(mag, float), centre, value, left=value[0], right=0.0)


def completeness_model(
    table_h: Table, offset_h: float, table_k: Table, offset_k: float
) -> Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]:
    """c_H(H) c_K(K): the probability that a star is measured in both bands, as a function of (H, K) in mag."""
    return lambda h, k: completeness_at(table_h, h, offset_h) * completeness_at(table_k, k, offset_k)


@dataclass(frozen=True)
class ColourErrorDistribution:
    """Cumulative distribution of the H - K error (measured - true) of a star, per bin of H and of K.

    Attributes
    ----------
    h_centres, k_centres : numpy.ndarray
        Calibrated magnitudes of the bins (mag).
    delta : numpy.ndarray
        Equally spaced colour errors at which the distribution is tabulated (mag).
    cdf : numpy.ndarray
        Shape (len(h_centres), len(k_centres), len(delta)): P(error <= delta).
    """

    h_centres: NDArray[np.float64]
    k_centres: NDArray[np.float64]
    delta: NDArray[np.float64]
    cdf: NDArray[np.float64]

    def at(
        self, h: NDArray[np.float64], k: NDArray[np.float64]
    ) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
        """P(error <= delta) for stars at (h, k) as a function of delta (mag): the nearest bins, linear in delta,
        0 and 1 beyond the table. The bins are looked up once, for repeated evaluation (a likelihood fit)."""
        n_delta = self.delta.size
        offsets = (_nearest(self.h_centres, h) * self.k_centres.size + _nearest(self.k_centres, k)) * n_delta
        flat, start, step = self.cdf.ravel(), self.delta[0], self.delta[1] - self.delta[0]

        def cdf(delta: NDArray[np.float64]) -> NDArray[np.float64]:
            position = np.clip((np.asarray(delta, float) - start) / step, 0.0, n_delta - 1.0)
            lower = np.minimum(position.astype(np.intp), n_delta - 2)
            fraction = position - lower
            return (1.0 - fraction) * flat[offsets + lower] + fraction * flat[offsets + lower + 1]

        return cdf

    def __call__(
        self, delta: NDArray[np.float64], h: NDArray[np.float64], k: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """P(error <= delta) for stars at (h, k) (mag); see ``at``."""
        return self.at(h, k)(delta)

    def halfwidth_68(self, h: float, k: float) -> float:
        """Half the 16-84 % range of the H - K error of a star at (h, k) (mag): sigma for a Gaussian."""
        cdf = self(self.delta, np.full(self.delta.size, h), np.full(self.delta.size, k))
        upper, lower = np.interp([0.84, 0.16], cdf, self.delta)
        return float(0.5 * (upper - lower))


def _nearest(centres: NDArray[np.float64], mag: NDArray[np.float64]) -> NDArray[np.intp]:
    step = centres[1] - centres[0] if centres.size > 1 else 1.0
    return np.clip(np.rint((np.asarray(mag, float) - centres[0]) / step), 0, centres.size - 1).astype(np.intp)


def _error_histograms(
    injected: Table,
    offset: float,
    centres: NDArray[np.float64],
    bin_width: float,
    edges: NDArray[np.float64],
    min_stars: int,
    path: str,
) -> NDArray[np.float64]:
    """Normalised histogram of mag_out - mag_in per magnitude bin: the recovered stars of the bin, or the
    ``min_stars`` nearest in magnitude when the bin has fewer."""
    recovered = np.asarray(injected["recovered"], bool)
    mag_in = np.asarray(injected["mag_in"], float)[recovered] + offset
    error = np.asarray(injected["mag_out"], float)[recovered] - np.asarray(injected["mag_in"], float)[recovered]
    if error.size < min_stars:
        raise ValueError(
            f"{path}: {error.size} recovered artificial stars; the colour-error distribution needs >= {min_stars}"
        )
    histograms = np.empty((centres.size, edges.size - 1))
    for index, centre in enumerate(centres):
        distance = np.abs(mag_in - centre)
        chosen = distance < 0.5 * bin_width
        if chosen.sum() < min_stars:
            chosen = distance <= np.sort(distance)[min_stars - 1]
        counts, _ = np.histogram(np.clip(error[chosen], edges[0], edges[-1]), edges)
        histograms[index] = counts / counts.sum()
    return histograms


def colour_error_distribution(
    injected_h: Table,
    offset_h: float,
    injected_k: Table,
    offset_k: float,
    h_range: tuple[float, float],
    k_range: tuple[float, float],
    bin_width: float = 0.5,
    step: float = 0.01,
    max_error: float = 2.0,
    smoothing: float = 0.02,
    min_stars: int = 20,
    paths: tuple[str, str] = ("H artificial stars", "Ks artificial stars"),
) -> ColourErrorDistribution:
    """The H - K error distribution of a star at (H, K) from the artificial stars of the two stacks.

    The H and Ks artificial stars are independent, so the colour error is the
    H error minus the K error, and its distribution the convolution of the
    empirical H-error distribution at H with the reflected K-error distribution
    at K, smoothed by a Gaussian of ``smoothing`` (the O-A dwarfs' intrinsic
    spread and the calibration's star-to-star residuals).

    Parameters
    ----------
    injected_h, injected_k : astropy.table.Table
        ``mag_in``, ``mag_out``, ``recovered`` of the artificial stars (instrumental mag).
    offset_h, offset_k : float
        Calibrated minus instrumental magnitude of each band (mag).
    h_range, k_range : tuple of float
        Calibrated magnitudes to tabulate (mag).
    bin_width : float
        Magnitude bin (mag).
    step, max_error : float
        Resolution and half-range of the tabulated errors (mag); larger errors count at +-``max_error``.
    smoothing : float
        Gaussian sigma added in quadrature (mag).
    min_stars : int
        Recovered stars per bin at least (the nearest in magnitude are taken where a bin has fewer).
    paths : tuple of str
        Names of the two tables for error messages.

    Returns
    -------
    ColourErrorDistribution
    """
    edges = np.arange(-max_error - 0.5 * step, max_error + step, step)
    h_centres = np.arange(h_range[0], h_range[1] + bin_width, bin_width)
    k_centres = np.arange(k_range[0], k_range[1] + bin_width, bin_width)
    per_h = _error_histograms(injected_h, offset_h, h_centres, bin_width, edges, min_stars, paths[0])
    per_k = _error_histograms(injected_k, offset_k, k_centres, bin_width, edges, min_stars, paths[1])
    n = edges.size - 1
    # the convolved masses sit at step * (m - (n - 1)), each standing for the step around it: the cumulative sum
    # up to m is the distribution at the upper edge of that step
    delta = step * (np.arange(2 * n - 1) - (n - 1) + 0.5)
    cdf = np.empty((h_centres.size, k_centres.size, delta.size))
    for i, hist_h in enumerate(per_h):
        for j, hist_k in enumerate(per_k):
            pmf = gaussian_filter1d(np.convolve(hist_h, hist_k[::-1]), smoothing / step, mode="constant")
            cdf[i, j] = np.cumsum(pmf) / pmf.sum()
    return ColourErrorDistribution(h_centres, k_centres, delta, cdf)
