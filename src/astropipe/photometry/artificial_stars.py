"""Artificial-star tests: completeness and photometric bias/scatter per magnitude bin.

Stars are injected with the measured PSF (and their Poisson noise) at random
positions in rounds of a few per cent of the detected stars, so that the
crowding is not changed appreciably; each round re-runs the same photometry
(same detection threshold, fitting and passes) and matches the injected
stars within one pixel and one magnitude.

The draws change smoothly with the image: each round has its own random streams
(``Generator.spawn``) for the positions, the magnitudes and the noise, and the
positions are drawn by rejection in fixed blocks, so a round of one star more
injects the same stars plus one, and a slightly different magnitude range moves
each star's magnitude slightly. (With one stream for everything, a catalogue one
star longer, which sets the number per round, drew all new stars: the default
night's 50 % limit in H moved by 0.24 mag, 2.4 times its error, under a 1 %
change of the cross-talk correction.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import pairwise

import numpy as np
from astropy.stats import mad_std
from astropy.table import Table, vstack
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from astropipe.photometry.completeness_curve import fit_completeness_curve
from astropipe.photometry.psf_model import PSFModel

__all__ = ["completeness_limit", "completeness_limit_with_error", "completeness_table", "inject_and_recover"]

#: candidate positions drawn at a time per round (those on uncovered pixels are dropped)
POSITION_BLOCK = 1024


def inject_and_recover(
    image: NDArray[np.float64],
    psf: PSFModel,
    measure: Callable[[NDArray[np.float64]], Table],
    n_stars: int,
    magnitude_range: tuple[float, float],
    rounds: int,
    rng: np.random.Generator,
    gain: float | None = None,
    edge: float = 10.0,
    log: logging.Logger | None = None,
) -> Table:
    """Inject ``n_stars`` per round for ``rounds`` rounds; return one row per injected star.

    Parameters
    ----------
    image : numpy.ndarray
        The image the real photometry ran on.
    psf : PSFModel
        The measured PSF.
    measure : callable
        ``measure(image) -> catalogue`` with columns ``x``, ``y``, ``mag_inst`` -
        the same photometry as for the real stars.
    n_stars, rounds : int
        Stars per round and number of rounds.
    magnitude_range : (float, float)
        Instrumental magnitudes drawn uniformly.
    rng : numpy.random.Generator
        Spawns each round's streams (module docstring).
    gain : float, optional
        Effective gain (e- per image unit) for the injected stars' Poisson noise.
    edge : float
        Distance (pixels) kept from the image border; stars land on covered (finite) pixels only.

    Returns
    -------
    astropy.table.Table
        ``round``, ``x``, ``y``, ``mag_in``, ``recovered``, ``mag_out``.
    """
    log = log or logging.getLogger(__name__)
    covered = np.isfinite(image)
    rows = []
    for r, round_rng in enumerate(rng.spawn(rounds)):
        position_rng, magnitude_rng, noise_rng = round_rng.spawn(3)
        x, y = _random_positions(covered, n_stars, edge, position_rng)
        mag = magnitude_rng.uniform(*magnitude_range, x.size)
        flux = 10 ** (-0.4 * mag)
        stars = psf.image(image.shape, x, y, flux)
        if gain:
            stars = stars + noise_rng.standard_normal(stars.shape) * np.sqrt(np.clip(stars, 0, None) / gain)
        catalog = measure(image + stars)
        distance, index = cKDTree(np.column_stack([catalog["x"], catalog["y"]])).query(np.column_stack([x, y]))
        mag_out = np.asarray(catalog["mag_inst"], float)[index]
        recovered = (distance < 1.0) & (np.abs(mag_out - mag) < 1.0)
        log.info("artificial stars, round %d/%d: %d of %d recovered", r + 1, rounds, recovered.sum(), x.size)
        rows.append(
            Table(
                {
                    "round": np.full(x.size, r),
                    "x": x,
                    "y": y,
                    "mag_in": mag,
                    "recovered": recovered,
                    "mag_out": np.where(recovered, mag_out, np.nan),
                }
            )
        )
    return vstack(rows)


def _random_positions(
    covered: NDArray[np.bool_], n_stars: int, edge: float, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``n_stars`` positions uniform over the ``covered`` pixels at least ``edge`` pixels inside the border:
    drawn over the border's inside in blocks of :data:`POSITION_BLOCK`, those on uncovered pixels dropped, so
    the first n of a longer draw are the n of a shorter one."""
    ny, nx = covered.shape
    low, high_x, high_y = round(edge), round(nx - 1 - edge), round(ny - 1 - edge)
    if not covered[low : high_y + 1, low : high_x + 1].any():
        raise ValueError(f"no covered pixel lies {edge} px inside the image's border for the artificial stars")
    x_kept, y_kept, found = [], [], 0
    while found < n_stars:
        x = rng.uniform(edge, nx - 1 - edge, POSITION_BLOCK)
        y = rng.uniform(edge, ny - 1 - edge, POSITION_BLOCK)
        on = covered[np.round(y).astype(int), np.round(x).astype(int)]
        x_kept.append(x[on])
        y_kept.append(y[on])
        found += int(on.sum())
    return np.concatenate(x_kept)[:n_stars], np.concatenate(y_kept)[:n_stars]


def completeness_table(injected: Table, bin_width: float = 0.5) -> Table:
    """Per magnitude bin: injected, recovered, completeness (with binomial error), bias and scatter of mag_out - mag_in."""
    edges = np.arange(np.floor(injected["mag_in"].min()), np.ceil(injected["mag_in"].max()) + bin_width, bin_width)
    table = Table(
        names=(
            "mag_lo",
            "mag_hi",
            "n_injected",
            "n_recovered",
            "completeness",
            "completeness_err",
            "bias_mag",
            "scatter_mag",
        ),
        dtype=(float, float, int, int, float, float, float, float),
    )
    for lo, hi in pairwise(edges):
        sel = (injected["mag_in"] >= lo) & (injected["mag_in"] < hi)
        n = int(sel.sum())
        if n == 0:
            continue
        rec = sel & injected["recovered"]
        k = int(rec.sum())
        c = k / n
        delta = np.asarray(injected["mag_out"][rec] - injected["mag_in"][rec], float)
        table.add_row(
            (
                lo,
                hi,
                n,
                k,
                c,
                np.sqrt(c * (1 - c) / n) if n else np.nan,
                float(np.median(delta)) if k else np.nan,
                float(mad_std(delta)) if k > 2 else np.nan,
            )
        )
    return table


def completeness_limit(table: Table, level: float = 0.5) -> float:
    """Magnitude where the completeness falls to ``level``: :func:`completeness_limit_with_error`'s value."""
    return completeness_limit_with_error(table, level)[0]


def completeness_limit_with_error(table: Table, level: float = 0.5) -> tuple[float, float]:
    """Magnitude where the fitted completeness curve falls to ``level``, and its error.

    The curve is Fleming et al. (1995)'s function fitted to every bin's counts
    (:func:`astropipe.photometry.completeness_curve.fit_completeness_curve`): a bright bin of a few stars that
    dips below the level by chance, or the two bins around the first crossing, do not set the limit alone.

    Parameters
    ----------
    table : astropy.table.Table
        :func:`completeness_table` output (``mag_lo``, ``mag_hi``, ``n_injected``, ``n_recovered``,
        ``completeness``).
    level : float
        Completeness fraction (0.5: the usual "50 % completeness limit").

    Returns
    -------
    (float, float)
        The limit in the table's magnitudes and its error (mag); NaN for both when no bin falls below
        ``level`` (the tests did not reach faint enough) or the fitted plateau stays below it.
    """
    if not np.any(np.asarray(table["completeness"]) < level):
        return float("nan"), float("nan")
    centre = 0.5 * (np.asarray(table["mag_lo"]) + np.asarray(table["mag_hi"]))
    curve = fit_completeness_curve(centre, np.asarray(table["n_injected"]), np.asarray(table["n_recovered"]))
    return curve.limit(level)
