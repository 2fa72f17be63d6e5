"""Simultaneous PSF fitting of every star in an image (the ALLSTAR role), vectorised.

Each iteration, over the stars not yet frozen,

1. solves all fluxes at once, positions fixed: the weighted linear least
   squares over every pixel within ``fit_radius`` of a star, where every star
   whose PSF reaches the pixel contributes (a sparse normal matrix, one row
   and column per star, solved by sparse LU) - blended stars are fitted
   together, however large the blend;
2. takes a Gauss-Newton step in (flux, x, y) for every star at once against
   the residual image with its own model added back (batched 3x3 systems),
   and keeps the position update (limited to ``max_step`` pixels).

Stars whose flux becomes non-positive are dropped, and a star that converges
closer than ``merge_separation`` to a brighter one is merged into it (as
ALLSTAR does: the two would share one profile). From the third iteration on, a star that moves by less than a tenth of its own position error
is frozen, as ALLSTAR retires converged stars: its parameters are fixed and
its model is subtracted from the data of the later iterations, which then cost
what the unsettled stars cost. Iterations stop when 99 % of the stars are
frozen; every flux is then solved once more jointly at the final positions.
Errors come from the inverse of each star's 3x3 normal matrix at the solution
(flux error including its covariance with position); ``chi`` is the reduced
chi of the star's pixels.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix, identity
from scipy.sparse.linalg import MatrixRankWarning, spsolve
from scipy.spatial import cKDTree

from astropipe.photometry.psf_model import PSFModel

__all__ = ["FitResult", "fit_stars", "merge_unresolved"]


@dataclass
class FitResult:
    """Fitted stars (arrays aligned with the input stars; ``kept`` marks the survivors)."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    flux: NDArray[np.float64]
    flux_err: NDArray[np.float64]
    x_err: NDArray[np.float64]
    y_err: NDArray[np.float64]
    chi: NDArray[np.float64]
    n_pixels: NDArray[np.int64]
    kept: NDArray[np.bool_]
    iterations: int


def _model_halves(
    psf: PSFModel, flux: NDArray[np.float64], alive: NDArray[np.bool_], fit_half: int, bright_fraction: float
) -> NDArray[np.int64]:
    """Stamp half-size per star: the whole footprint for the brightest living stars, twice the fit box otherwise."""
    halves = np.full(flux.size, min(psf.half, 2 * fit_half))
    if alive.any():
        halves[flux >= np.quantile(flux[alive], 1.0 - bright_fraction)] = psf.half
    return halves


def _fitting_pixels(psf, x, y, fit_half, fit_radius, shape):
    """Stamps (with gradients) on each star's fitting box, their pixel index, and which lie within the radius."""
    fit = psf.stamps(x, y, half=fit_half, gradients=True)
    index, inside = fit.flat_index(shape)
    r2 = (fit.px[:, None, :] - x[:, None, None]) ** 2 + (fit.py[:, :, None] - y[:, None, None]) ** 2
    return fit, index, inside & (r2 <= fit_radius**2).reshape(x.size, -1)


def _model_entries(psf, x, y, halves, shape):
    """(star, pixel index, PSF value) of every star's model stamp, grouped by stamp size."""
    stars, pixels, values = [], [], []
    for half in np.unique(halves):
        members = np.flatnonzero(halves == half)
        stamps = psf.stamps(x[members], y[members], half=int(half))
        index, inside = stamps.flat_index(shape)
        v = stamps.values.reshape(members.size, -1)
        keep = inside
        stars.append(np.broadcast_to(members[:, None], keep.shape)[keep])
        pixels.append(index[keep])
        values.append(v[keep])
    return np.concatenate(stars), np.concatenate(pixels), np.concatenate(values)


def _render(entries, flux: NDArray[np.float64], size: int) -> NDArray[np.float64]:
    """The raveled image of the stars whose model ``entries`` (star, pixel, value) are given, at ``flux``."""
    star, pixel, value = entries
    return np.bincount(pixel, weights=value * flux[star], minlength=size)


class _FrozenStars:
    """Stars that have converged: their parameters are fixed and their model is subtracted from the data
    the other stars are fitted to (ALLSTAR's strategy), so an iteration costs what its unsettled stars cost."""

    def __init__(self, psf: PSFModel, shape: tuple[int, int], n_stars: int) -> None:
        self.psf, self.shape = psf, shape
        self.mask = np.zeros(n_stars, dtype=bool)
        self.half = np.zeros(n_stars, dtype=np.int64)
        self.model = np.zeros(shape[0] * shape[1])

    def _render(self, stars, x, y, flux) -> NDArray[np.float64]:
        entries = _model_entries(self.psf, x[stars], y[stars], self.half[stars], self.shape)
        return _render(entries, flux[stars], self.model.size)

    def freeze(self, stars: NDArray[np.int64], x, y, flux, halves: NDArray[np.int64]) -> None:
        """Fix ``stars`` at (x, y, flux), their stamps of half-size ``halves``."""
        if stars.size:
            self.mask[stars], self.half[stars] = True, halves
            self.model += self._render(stars, x, y, flux)

    def thaw(self, stars: NDArray[np.int64], x, y, flux) -> None:
        """Return ``stars`` (frozen at x, y, flux) to the fit."""
        if stars.size:
            self.model -= self._render(stars, x, y, flux)
            self.mask[stars] = False


def _solve_fluxes(target, sqrt_w, psf, x, y, halves, findex, in_radius, shape):
    """Step 1: the fluxes of the given stars, positions fixed, by one sparse weighted least-squares solve
    over their fitting pixels; also every star's model entries (star, pixel, value)."""
    npix = shape[0] * shape[1]
    fit_pixels = np.zeros(npix, dtype=bool)
    fit_pixels[findex[in_radius]] = True
    fit_pixels &= sqrt_w > 0
    row_of = np.full(npix, -1, dtype=np.int64)
    rows = np.flatnonzero(fit_pixels)
    row_of[rows] = np.arange(rows.size)
    star, pixel, value = _model_entries(psf, x, y, halves, shape)
    use = row_of[pixel] >= 0
    design = csr_matrix((value[use] * sqrt_w[pixel[use]], (row_of[pixel[use]], star[use])), shape=(rows.size, x.size))
    normal = (design.T @ design).tocsc()
    rhs = design.T @ (target[rows] * sqrt_w[rows])
    solvable = normal.diagonal() > 0
    solved = np.zeros(x.size)
    if np.any(solvable):
        sub = normal[solvable][:, solvable]
        with warnings.catch_warnings():  # an exactly singular system is handled below, not an error to report
            warnings.simplefilter("ignore", MatrixRankWarning)
            solved[solvable] = np.atleast_1d(spsolve(sub, rhs[solvable]))
        if not np.all(np.isfinite(solved)):
            # exactly singular (two stars on the same pixels): a tiny ridge shares their flux; the
            # duplicate is merged or dropped by the later passes
            ridge = 1e-9 * float(sub.diagonal().max()) * identity(sub.shape[0], format="csc")
            solved[solvable] = np.atleast_1d(spsolve(sub + ridge, rhs[solvable]))
        solved = np.nan_to_num(solved, nan=0.0)
    return solved, (star, pixel, value)


def fit_stars(
    signal: NDArray[np.float64],
    noise: NDArray[np.float64],
    psf: PSFModel,
    x0: NDArray[np.float64],
    y0: NDArray[np.float64],
    flux0: NDArray[np.float64],
    fit_radius: float,
    *,
    bad: NDArray[np.bool_] | None = None,
    max_iterations: int = 15,
    tolerance: float = 0.1,
    max_step: float = 0.5,
    bright_fraction: float = 0.1,
    converged_fraction: float = 0.99,
    merge_separation: float = 0.0,
    freeze_after: int = 3,
) -> FitResult:
    """Fit positions and fluxes of all stars simultaneously.

    Parameters
    ----------
    signal : numpy.ndarray
        Background-subtracted image (NaN where unusable).
    noise : numpy.ndarray
        Per-pixel standard deviation.
    psf : PSFModel
        The ePSF.
    x0, y0, flux0 : numpy.ndarray
        Starting positions (0-based pixels) and fluxes.
    fit_radius : float
        Pixels within this radius of a star enter its fit (ALLSTAR's fitting radius).
    bad : numpy.ndarray of bool, optional
        Pixels to ignore (saturated, defects).
    max_iterations, tolerance, max_step : int, float, float
        Iteration control: a star has converged when its step is below
        ``tolerance`` times its position error (or 0.001 px). Steps are
        limited to ``max_step`` pixels.
    freeze_after : int
        From this iteration on a converged star is frozen (its parameters fixed,
        its model subtracted); by the third its neighbours' fluxes have settled.
        Larger than ``max_iterations``: nothing is frozen.
    converged_fraction : float
        Iterations stop when this fraction of the stars is frozen.
    bright_fraction : float
        Fraction of stars (the brightest) modelled over the whole PSF footprint;
        the others over twice the fitting box, where their wings are negligible.
    merge_separation : float
        Stars that come closer than this (pixels) are merged into the brighter
        (see `merge_unresolved`); 0 never merges. A frozen star that merges returns to the fit.

    Returns
    -------
    FitResult
    """
    shape = signal.shape
    usable = np.isfinite(signal) & np.isfinite(noise) & (noise > 0)
    if bad is not None:
        usable &= ~bad
    data = np.where(usable, signal, 0.0).ravel()
    weight = np.where(usable, 1.0 / np.where(usable, noise, 1.0) ** 2, 0.0).ravel()
    sqrt_w = np.sqrt(weight)
    x, y = np.array(x0, dtype=float), np.array(y0, dtype=float)
    flux = np.maximum(np.array(flux0, dtype=float), 1e-12)
    alive = np.ones(x.size, dtype=bool)
    frozen = _FrozenStars(psf, shape, x.size)
    fit_half = int(np.ceil(fit_radius))
    iterations = 0
    for iterations in range(1, max_iterations + 1):
        idx = np.flatnonzero(alive & ~frozen.mask)
        if idx.size == 0:
            break
        halves = _model_halves(psf, flux, alive, fit_half, bright_fraction)[idx]
        target = data - frozen.model
        fit, findex, in_radius = _fitting_pixels(psf, x[idx], y[idx], fit_half, fit_radius, shape)
        solved, entries = _solve_fluxes(target, sqrt_w, psf, x[idx], y[idx], halves, findex, in_radius, shape)
        flux[idx] = solved
        keep = solved > 0
        alive[idx[~keep]] = False
        if not keep.any():
            break
        settled = _position_step(
            target - _render(entries, solved, target.size),
            weight,
            fit,
            findex,
            in_radius,
            keep,
            idx,
            x,
            y,
            flux,
            max_step,
            tolerance,
        )
        merged = _merge_living(x, y, flux, alive, frozen, merge_separation)
        if iterations >= freeze_after:  # settled, alive and not just given a merged neighbour's light
            newly = idx[keep][settled]
            newly = newly[alive[newly] & ~np.isin(newly, merged)]
            frozen.freeze(newly, x, y, flux, halves[np.searchsorted(idx, newly)])
        converged = settled.mean() if iterations < freeze_after else frozen.mask[alive].mean()
        if merged.size == 0 and converged >= converged_fraction:
            break
    _refit_fluxes(data, sqrt_w, psf, shape, x, y, flux, alive, fit_half, fit_radius, bright_fraction)
    return _final_errors(data, weight, psf, shape, x, y, flux, alive, fit_half, fit_radius, bright_fraction, iterations)


def _position_step(residual, weight, fit, findex, in_radius, keep, idx, x, y, flux, max_step, tolerance):
    """Step 2: a Gauss-Newton step in (flux, x, y) for every kept star against the residual with its own
    model added back; the position update is applied (limited to ``max_step`` px). Returns which of the
    kept stars moved by less than ``tolerance`` times their position error (or 1e-3 px)."""
    step, covariance, _, _ = _newton(residual, weight, flux[idx][keep], fit, keep, findex[keep], in_radius[keep])
    move = np.clip(step[:, 1:], -max_step, max_step)
    x[idx[keep]] += move[:, 0]
    y[idx[keep]] += move[:, 1]
    sigma = np.sqrt(np.clip(np.minimum(covariance[:, 1, 1], covariance[:, 2, 2]), 0.0, None))
    return np.abs(move).max(axis=1) < np.maximum(tolerance * sigma, 1e-3)


def _merge_living(x, y, flux, alive, frozen: _FrozenStars, separation: float) -> NDArray[np.int64]:
    """Merge unresolved pairs among the living stars (frozen or not); a frozen star that takes part is
    thawed first. Returns the stars that took part (absorbed or absorbing)."""
    live = np.flatnonzero(alive)
    xs, ys, fs = x[live], y[live], flux[live]
    survivors = merge_unresolved(xs, ys, fs, separation)
    if survivors.all():
        return np.zeros(0, dtype=np.int64)
    touched = ~survivors | (xs != x[live]) | (ys != y[live]) | (fs != flux[live])
    frozen.thaw(live[touched & frozen.mask[live]], x, y, flux)
    x[live], y[live], flux[live] = xs, ys, fs
    alive[live[~survivors]] = False
    return live[touched]


def _refit_fluxes(data, sqrt_w, psf, shape, x, y, flux, alive, fit_half, fit_radius, bright_fraction) -> None:
    """Every living star's flux solved once more jointly at the final positions: a star frozen early
    takes up the light a still-moving neighbour has since left or taken."""
    idx = np.flatnonzero(alive)
    if idx.size:
        halves = _model_halves(psf, flux, alive, fit_half, bright_fraction)[idx]
        _, findex, in_radius = _fitting_pixels(psf, x[idx], y[idx], fit_half, fit_radius, shape)
        solved, _ = _solve_fluxes(data, sqrt_w, psf, x[idx], y[idx], halves, findex, in_radius, shape)
        flux[idx] = np.maximum(solved, 1e-12)


def _final_errors(data, weight, psf, shape, x, y, flux, alive, fit_half, fit_radius, bright_fraction, iterations):
    """The solution with its errors: each living star's 3x3 covariance against the residual of every
    star (flux error including its covariance with position), and the reduced chi of its fitting pixels."""
    result = FitResult(
        x=x,
        y=y,
        flux=flux,
        flux_err=np.full(x.size, np.nan),
        x_err=np.full(x.size, np.nan),
        y_err=np.full(x.size, np.nan),
        chi=np.full(x.size, np.nan),
        n_pixels=np.zeros(x.size, dtype=np.int64),
        kept=alive.copy(),
        iterations=iterations,
    )
    idx = np.flatnonzero(alive)
    if idx.size:
        xa, ya = x[idx], y[idx]
        halves = _model_halves(psf, flux, alive, fit_half, bright_fraction)[idx]
        model = _render(_model_entries(psf, xa, ya, halves, shape), flux[idx], data.size)
        fit, findex, in_radius = _fitting_pixels(psf, xa, ya, fit_half, fit_radius, shape)
        everyone = np.ones(idx.size, dtype=bool)
        _, covariance, chi2, count = _newton(data - model, weight, flux[idx], fit, everyone, findex, in_radius)
        result.flux_err[idx] = np.sqrt(covariance[:, 0, 0])
        result.x_err[idx] = np.sqrt(covariance[:, 1, 1])
        result.y_err[idx] = np.sqrt(covariance[:, 2, 2])
        result.chi[idx] = np.sqrt(chi2 / np.maximum(count - 3, 1))
        result.n_pixels[idx] = count
    return result


def merge_unresolved(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    separation: float,
    variance: NDArray[np.float64] | None = None,
) -> NDArray[np.bool_]:
    """Merge every star closer than ``separation`` to a brighter one into it (ALLSTAR's merging).

    Two stars fitted that close share one profile: their fluxes are degenerate
    and only the sum is measured. The brighter takes the flux-weighted
    position and the summed flux (``x``, ``y``, ``flux`` and ``variance`` are
    updated in place), closest pairs first.

    Parameters
    ----------
    x, y : numpy.ndarray
        Fitted positions (pixels).
    flux : numpy.ndarray
        Fitted fluxes (image units).
    separation : float
        Critical separation (pixels); 0 merges nothing.
    variance : numpy.ndarray, optional
        Flux variances, summed on merging (an upper bound: the two fluxes of
        an unresolved pair are anti-correlated).

    Returns
    -------
    numpy.ndarray of bool
        The stars that remain.
    """
    survivors = np.ones(x.size, dtype=bool)
    if separation <= 0 or x.size < 2:
        return survivors
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(separation, output_type="ndarray")
    if len(pairs) == 0:
        return survivors
    order = np.argsort(np.hypot(x[pairs[:, 0]] - x[pairs[:, 1]], y[pairs[:, 0]] - y[pairs[:, 1]]))
    for i, j in pairs[order]:
        if survivors[i] and survivors[j]:
            bright, faint = (i, j) if flux[i] >= flux[j] else (j, i)
            total = flux[bright] + flux[faint]
            x[bright] = (x[bright] * flux[bright] + x[faint] * flux[faint]) / total
            y[bright] = (y[bright] * flux[bright] + y[faint] * flux[faint]) / total
            flux[bright] = total
            if variance is not None:
                variance[bright] += variance[faint]
            survivors[faint] = False
    return survivors


def _newton(residual, weight, flux, stamps, keep, index, in_radius):
    """Batched Gauss-Newton step for (flux, x, y); also covariance, chi^2 and pixel counts.

    ``residual`` has every star subtracted; the Jacobian of star k is
    [P, -f dP/ddx, -f dP/ddy] on its fitting pixels.
    """
    n = int(keep.sum())
    p = stamps.values[keep].reshape(n, -1)
    gx = stamps.grad_x[keep].reshape(n, -1)
    gy = stamps.grad_y[keep].reshape(n, -1)
    w = np.where(in_radius, weight[index], 0.0)
    r = np.where(in_radius, residual[index], 0.0)
    jac = np.stack([p, -flux[:, None] * gx, -flux[:, None] * gy], axis=-1)
    weighted = jac * w[:, :, None]
    hessian = np.matmul(weighted.transpose(0, 2, 1), jac)
    gradient = np.matmul(weighted.transpose(0, 2, 1), r[:, :, None])[:, :, 0]
    hessian += np.eye(3)[None] * 1e-12 * np.trace(hessian, axis1=1, axis2=2)[:, None, None]
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        covariance = np.linalg.pinv(hessian)
    step = np.einsum("nij,nj->ni", covariance, gradient)
    chi2 = (w * r * r).sum(axis=1)
    return step, covariance, chi2, (w > 0).sum(axis=1)
