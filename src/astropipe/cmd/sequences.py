"""The colour sequences of the CMD: peaks of the colour distribution and the stars between its valleys
(Dutra et al. 2003, §3.3, Fig. 7b).

The colour histogram of a field towards the inner bulge has a blue sequence
(foreground disc, paper H - K ~ 0.25) and a red one (bulge giants and the
cluster, paper ~ 1.10). Neither is Gaussian - the red one is a clump on a
broad giant branch with an error-broadened faint tail - so a two-Gaussian
mixture lets its broad component drift between them, and the position of a
flat-topped peak moves with the photometric noise. The sequences are located
as follows:

1. a Gaussian kernel density estimate of the colours (bandwidth ``bandwidth``);
2. its ``n_sequences`` most prominent local maxima (``peak``: where the paper
   reads its numbers);
3. the density minima between consecutive peaks split the stars into
   sequences; each sequence's colour is the median of its stars (``median``),
   which photometric noise does not move.

Errors come from a bootstrap over stars.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray
from scipy.signal import find_peaks

from astropipe.random_streams import random_stream

__all__ = ["ColourSequences", "kernel_density", "locate_sequences"]


@dataclass
class ColourSequences:
    """Sequences of the colour distribution, from blue to red (mag).

    Attributes
    ----------
    peaks, peaks_err : numpy.ndarray
        Modes of the kernel density and their bootstrap errors.
    medians, medians_err : numpy.ndarray
        Median colour of the stars of each sequence and its bootstrap error.
    valleys : numpy.ndarray
        Density minima separating the sequences.
    """

    peaks: NDArray[np.float64]
    peaks_err: NDArray[np.float64]
    medians: NDArray[np.float64]
    medians_err: NDArray[np.float64]
    valleys: NDArray[np.float64]
    n_stars: int
    bandwidth: float

    def as_dict(self) -> dict:
        """JSON-ready, one entry per sequence."""
        return {
            "n_stars": self.n_stars,
            "bandwidth_mag": self.bandwidth,
            "valleys_mag": self.valleys.tolist(),
            "method": "kernel-density peaks; sequences split at the density minima; median colour per sequence",
            "components": [
                {"median_mag": float(m), "median_err_mag": float(me), "peak_mag": float(p), "peak_err_mag": float(pe)}
                for m, me, p, pe in zip(self.medians, self.medians_err, self.peaks, self.peaks_err, strict=True)
            ],
        }


def kernel_density(colour: NDArray[np.float64], grid: NDArray[np.float64], bandwidth: float) -> NDArray[np.float64]:
    """Gaussian kernel density of ``colour`` on ``grid`` (stars per mag)."""
    z = (grid[:, None] - colour[None, :]) / bandwidth
    return np.exp(-0.5 * z**2).sum(axis=1) / (np.sqrt(2 * np.pi) * bandwidth)


def _locate(colour: NDArray[np.float64], n: int, bandwidth: float) -> tuple[NDArray, NDArray, NDArray]:
    grid = np.arange(colour.min() - 3 * bandwidth, colour.max() + 3 * bandwidth, bandwidth / 5)
    density = kernel_density(colour, grid, bandwidth)
    index, properties = find_peaks(density, prominence=0.0)
    if index.size < n:
        raise ValueError(f"the colour distribution has {index.size} peaks; {n} sequences expected")
    peaks = np.sort(index[np.argsort(properties["prominences"])[::-1][:n]])
    valleys = np.array([grid[a + np.argmin(density[a : b + 1])] for a, b in pairwise(peaks)])
    edges = np.concatenate([[-np.inf], valleys, [np.inf]])
    medians = np.array([np.median(colour[(colour > lo) & (colour <= hi)]) for lo, hi in pairwise(edges)])
    return grid[peaks], medians, valleys


def locate_sequences(
    colour: NDArray[np.float64], n_sequences: int = 2, bandwidth: float = 0.04, bootstrap: int = 100, seed: int = 0
) -> ColourSequences:
    """Peaks, dividing valleys and median colours of the ``n_sequences`` main sequences of a colour distribution.

    Parameters
    ----------
    colour : numpy.ndarray
        H - K of the stars (mag); non-finite values are ignored.
    n_sequences : int
        Number of sequences to locate.
    bandwidth : float
        Kernel width (mag).
    bootstrap : int
        Resamples for the errors.
    seed : int
        Seed of the bootstrap.

    Raises
    ------
    ValueError
        Fewer than 20 stars per sequence, or fewer peaks than sequences.
    """
    colour = np.asarray(colour, float)
    colour = colour[np.isfinite(colour)]
    if colour.size < 20 * n_sequences:
        raise ValueError(
            f"{colour.size} stars with colours; locating {n_sequences} sequences needs at least {20 * n_sequences}"
        )
    peaks, medians, valleys = _locate(colour, n_sequences, bandwidth)
    rng = random_stream(seed)
    resampled = []
    for _ in range(bootstrap):
        try:
            resampled.append(np.concatenate(_locate(rng.choice(colour, colour.size), n_sequences, bandwidth)[:2]))
        except ValueError:
            continue
    spread = np.std(resampled, axis=0, ddof=1) if len(resampled) > 1 else np.full(2 * n_sequences, np.nan)
    return ColourSequences(
        peaks=peaks,
        peaks_err=spread[:n_sequences],
        medians=medians,
        medians_err=spread[n_sequences:],
        valleys=valleys,
        n_stars=int(colour.size),
        bandwidth=bandwidth,
    )
