"""An ePSF that varies quadratically across the image (DAOPHOT's VARIABLE = 2 look-up tables).

DAOPHOT (Stetson 1987, PASP 99, 191) represents a varying PSF as a constant
analytic part plus look-up tables of residuals that are polynomials in the
position, E(x, y) = E_0 + E_1 u + E_2 v + E_3 u^2 + E_4 u v + E_5 v^2 with
(u, v) the position scaled to [-1, 1] across the image. Here E_0 is the
constant ePSF (photutils ``EPSFBuilder``) and the five correction tables are
fitted by weighted least squares to the PSF stars' residuals, one 6-term fit
per oversampled pixel (each star's pixels fall on the oversampled grid at
their offset from the star, rounded, as ``EPSFBuilder`` assigns them), with
the stars' fluxes re-fitted on their cores with the model of the previous
iteration. The result is tabulated on a grid of nodes spanning the image
(:class:`~astropipe.photometry.psf_grid.VaryingPSFModel`), each node
normalised to unit flux in its footprint as the constant ePSF is.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from astropipe.photometry.psf_grid import VaryingPSFModel, node_positions
from astropipe.photometry.psf_model import PSFModel

__all__ = ["fit_quadratic_epsf", "position_terms"]

#: corrections are fitted out to this many fit radii and tapered to zero one fit radius further
WINDOW_START = 1.0


def position_terms(x: NDArray, y: NDArray, shape: tuple[int, int]) -> NDArray[np.float64]:
    """(n, 6) terms 1, u, v, u^2, u v, v^2 of positions (x, y) on an image of ``shape`` (u, v in [-1, 1])."""
    ny, nx = shape
    u = np.clip(2.0 * np.asarray(x, float) / (nx - 1) - 1.0, -1.0, 1.0)
    v = np.clip(2.0 * np.asarray(y, float) / (ny - 1) - 1.0, -1.0, 1.0)
    return np.column_stack([np.ones_like(u), u, v, u * u, u * v, v * v])


def fit_quadratic_epsf(
    signal: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    constant: PSFModel,
    fit_radius: float,
    nodes_per_axis: int = 5,
    iterations: int = 3,
) -> VaryingPSFModel:
    """Fit the quadratic variation of the ePSF to isolated PSF stars; return it tabulated on nodes.

    Parameters
    ----------
    signal : numpy.ndarray
        Image of the PSF stars with background and neighbours subtracted.
    x, y, flux : numpy.ndarray
        The PSF stars' positions (pixels) and first fluxes.
    constant : PSFModel
        The constant ePSF (E_0).
    fit_radius : float
        Radius (pixels) of the core over which each star's flux is re-fitted.
    nodes_per_axis : int
        Nodes of the tabulation grid per axis, spanning the whole image.
    iterations : int
        Fits of the correction tables (fluxes re-fitted before each).

    Returns
    -------
    VaryingPSFModel
    """
    x, y, flux = (np.asarray(a, float) for a in (x, y, flux))
    base = constant.data
    os_ = constant.oversampling
    stamps = constant.stamps(x, y)
    index, inside = stamps.flat_index(signal.shape)
    data = np.where(inside, np.nan_to_num(signal.ravel()[index], nan=0.0), 0.0)
    n = x.size
    dx = np.broadcast_to(stamps.px[:, None, :] - x[:, None, None], stamps.values.shape).reshape(n, -1)
    dy = np.broadcast_to(stamps.py[:, :, None] - y[:, None, None], stamps.values.shape).reshape(n, -1)
    gy = np.rint((base.shape[0] - 1) / 2 + dy * os_).astype(int)
    gx = np.rint((base.shape[1] - 1) / 2 + dx * os_).astype(int)
    on_grid = inside & (gx >= 0) & (gx < base.shape[1]) & (gy >= 0) & (gy < base.shape[0])
    cell = np.where(on_grid, gy * base.shape[1] + gx, 0)
    core = on_grid & (dx * dx + dy * dy <= fit_radius**2)
    terms = position_terms(x, y, signal.shape)
    base_values = stamps.values.reshape(n, -1).astype(float)
    corrections = np.zeros((5, base.size))  # in units of the tabulated PSF per detector pixel
    for _ in range(iterations):
        model = base_values + np.einsum("nk,knp->np", terms[:, 1:], corrections[:, cell])
        core_model = np.where(core, model, 0.0)
        flux = (core_model * data).sum(axis=1) / np.maximum((core_model * model).sum(axis=1), 1e-12)
        flux = np.maximum(flux, 1e-12)
        corrections += _solve_tables(data / flux[:, None] - model, terms, cell, on_grid, flux, base.size)
    # the variation is kept in the core (to WINDOW_START fit radii, tapered to 0 one fit radius further):
    # beyond, each pixel's 6-term fit is mostly noise, whose sum changes the nodes' normalisations (measured:
    # with the window at 2-3 fit radii a field without variation got node peaks 10 % apart)
    gy_all, gx_all = np.indices(base.shape)
    radius = np.hypot(gx_all - (base.shape[1] - 1) / 2, gy_all - (base.shape[0] - 1) / 2) / os_ / fit_radius
    window = np.cos(0.5 * np.pi * np.clip(radius - WINDOW_START, 0.0, 1.0)) ** 2
    # the tabulated PSF is the spline through the data times the model's normalisation
    return _tabulate(base, corrections * window.ravel() / constant.normalisation, os_, signal.shape, nodes_per_axis)


def _solve_tables(residual, terms, cell, on_grid, flux, size):
    """Least-squares increments of the five correction tables: at every oversampled pixel, the residuals
    falling on it fitted with u, v, u^2, u v, v^2 and a free constant. A residual per unit flux has variance
    ~ sigma^2 / F^2, but weights F^2 would leave a few of the brightest stars to decide every pixel, so the
    weights are min(F, median F)^2."""
    n_terms = terms.shape[1]
    samples = np.flatnonzero(on_grid.ravel())
    star = samples // on_grid.shape[1]
    where = cell.ravel()[samples]
    t = terms[star]
    w = np.minimum(flux, np.median(flux))[star] ** 2
    normal = np.empty((size, n_terms, n_terms))
    for i in range(n_terms):
        for j in range(i, n_terms):
            normal[:, i, j] = normal[:, j, i] = np.bincount(where, weights=w * t[:, i] * t[:, j], minlength=size)
    rhs = np.column_stack(
        [np.bincount(where, weights=w * residual.ravel()[samples] * t[:, i], minlength=size) for i in range(n_terms)]
    )
    # a tiny ridge keeps pixels no star samples (or samples from one place only) at no correction
    ridge = 1e-6 * np.maximum(normal[:, 0, 0], 1e-30)[:, None, None] * np.eye(n_terms)
    solved = np.linalg.solve(normal + ridge, rhs[:, :, None])[:, :, 0]
    return solved[:, 1:].T


def _tabulate(base, corrections, oversampling, shape, nodes_per_axis) -> VaryingPSFModel:
    """The quadratic ePSF evaluated on ``nodes_per_axis`` x ``nodes_per_axis`` nodes spanning the image."""
    nodes = node_positions(shape, nodes_per_axis)
    terms = position_terms(nodes[:, 0], nodes[:, 1], shape)[:, 1:]
    data = base[None] + np.einsum("mk,kp->mp", terms, corrections).reshape(len(nodes), *base.shape)
    return VaryingPSFModel(data, nodes, oversampling)
