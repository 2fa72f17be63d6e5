"""An ePSF that is stretched and sheared across the image: the constant ePSF under a local linear map.

Optical aberrations towards the edges of a field (SOFI's small-field
objective: images broadened and elongated near the upper and lower edges of
the array) change the size and the elongation of the PSF far more than its
profile. The PSF at a position is then the constant ePSF E seen through a
local linear map A of the focal plane,

    P(d; A) = E(A^-1 d) / det A,                                         (1)

with d the offset from the star and A = [[1 + a, b], [b, 1 + c]] symmetric:
three numbers per position, the size and the two shear components that
PSF models in weak lensing follow across a field (their second moments).
Each PSF star's (a, b, c) and flux are fitted to its pixels within two fit
radii (Gauss-Newton); each of the three components is then fitted across the
image by a polynomial of the position (quartic: flat over the centre and
steep towards the edges; stars beyond 4 MAD clipped, which removes blends and
stars with a residual neighbour) and evaluated on a grid of nodes, and every
node's ePSF is the constant ePSF's table mapped by equation (1) within two fit radii
(cubic-spline resampling; the wings, a halo of scattered light, left as they
are), normalised as the constant one. Unlike a polynomial
of every pixel of the table (:mod:`~astropipe.photometry.psf_polynomial`),
three numbers per star are measured with little noise, and their polynomials
take up neither the PSF stars' neighbours nor their blends.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import map_coordinates

from astropipe.photometry.psf_grid import VaryingPSFModel, node_positions
from astropipe.photometry.psf_model import PSFModel

__all__ = ["PSFMapError", "distorted_table", "fit_distorted_epsf", "fit_map_polynomials", "fit_star_maps", "map_degree"]


#: stars' maps are fitted on their pixels within this many fit radii
FIT_WINDOW = 2.0
#: Gauss-Newton iterations of a star's map, and the largest change of a, b, c per iteration
ITERATIONS, MAX_STEP = 12, 0.1
#: bounds of a star's a, b, c
MAP_BOUNDS = np.array([[-0.4, 1.0], [-0.4, 0.4], [-0.4, 1.0]])
#: total degree of the polynomials in the position that the three components of the map follow, and the fewest
#: stars per term of them (fewer stars lower the degree)
MAP_DEGREE, STARS_PER_TERM = 4, 3
#: fewest stars with a fitted map that are followed across the image
MIN_STARS = 5
#: stars whose map lies further than this many MAD from the fitted polynomials are left out of them
CLIP_MAD = 4.0


class PSFMapError(ValueError):
    """Too few PSF stars with a fitted map to follow the PSF across the image."""


def distorted_table(
    table: NDArray[np.float64], a: float, b: float, c: float, core_radius: float = np.inf
) -> NDArray[np.float64]:
    """The oversampled ePSF ``table`` under the map A = [[1 + a, b], [b, 1 + c]] (equation 1) within
    ``core_radius`` (table pixels), tapered to the unmapped table over one more ``core_radius`` / 2.

    The map acts about the table's centre; the table is resampled with a cubic spline and divided by det A,
    so the flux is kept (up to what the map moves out of the table). Beyond the core the ePSF is left as it
    is: the stars' maps are measured within two fit radii (``FIT_WINDOW``), and a halo of scattered light
    does not take the core's aberrations.
    """
    matrix = np.array([[1.0 + a, b], [b, 1.0 + c]])
    inverse = np.linalg.inv(matrix)
    centre = (np.asarray(table.shape, float) - 1.0) / 2.0
    gy, gx = np.indices(table.shape, dtype=float)
    offset = np.stack([gx - centre[1], gy - centre[0]])
    source = np.einsum("ij,jyx->iyx", inverse, offset)
    resampled = map_coordinates(table, [source[1] + centre[0], source[0] + centre[1]], order=3, mode="constant")
    mapped = resampled / np.linalg.det(matrix)
    if not np.isfinite(core_radius):
        return mapped
    beyond = np.clip((np.hypot(*offset) - core_radius) / (0.5 * core_radius), 0.0, 1.0)
    taper = np.cos(0.5 * np.pi * beyond) ** 2
    return taper * mapped + (1.0 - taper) * table


def _mapped(constant: PSFModel, dx: NDArray, dy: NDArray, maps: NDArray) -> NDArray[np.float64]:
    """Equation (1) at offsets (dx, dy) (n, p) of n stars with maps (n, 3) = (a, b, c)."""
    a, b, c = (maps[:, k : k + 1] for k in range(3))
    det = (1.0 + a) * (1.0 + c) - b * b
    ux = ((1.0 + c) * dx - b * dy) / det
    uy = ((1.0 + a) * dy - b * dx) / det
    return constant(ux, uy) / det


def fit_star_maps(
    signal: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    constant: PSFModel,
    fit_radius: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Each star's map (a, b, c) and flux, fitted to its pixels within ``FIT_WINDOW`` fit radii.

    Parameters
    ----------
    signal : numpy.ndarray
        Image of the stars with background and neighbours subtracted.
    x, y, flux : numpy.ndarray
        Positions (pixels, kept fixed) and first fluxes of the n stars.
    constant : PSFModel
        The constant ePSF (E of equation 1).
    fit_radius : float
        The photometry's fit radius (pixels).

    Returns
    -------
    maps : numpy.ndarray (n, 3)
        a, b, c of each star.
    variance : numpy.ndarray (n, 3)
        Their variances from the fit's curvature and the star's residual scatter.
    flux : numpy.ndarray (n,)
        The fluxes fitted with the maps.
    """
    x, y, flux = (np.asarray(v, float) for v in (x, y, flux))
    radius = FIT_WINDOW * fit_radius
    half = int(np.ceil(radius))
    k = np.arange(-half, half + 1)
    px = np.rint(x)[:, None, None] + k[None, None, :]
    py = np.rint(y)[:, None, None] + k[None, :, None]
    dx = np.broadcast_to(px - x[:, None, None], (x.size, k.size, k.size)).reshape(x.size, -1)
    dy = np.broadcast_to(py - y[:, None, None], (x.size, k.size, k.size)).reshape(x.size, -1)
    ny, nx = signal.shape
    pxf = np.broadcast_to(px, (x.size, k.size, k.size)).reshape(x.size, -1).astype(int)
    pyf = np.broadcast_to(py, (x.size, k.size, k.size)).reshape(x.size, -1).astype(int)
    used = (dx * dx + dy * dy <= radius * radius) & (pxf >= 0) & (pxf < nx) & (pyf >= 0) & (pyf < ny)
    data = np.where(used, np.nan_to_num(signal[np.clip(pyf, 0, ny - 1), np.clip(pxf, 0, nx - 1)]), 0.0)
    maps = np.zeros((x.size, 3))
    step = 1e-3
    for _ in range(ITERATIONS):
        model = _mapped(constant, dx, dy, maps)
        columns = [model]
        for parameter in range(3):
            shifted = maps.copy()
            shifted[:, parameter] += step
            columns.append(flux[:, None] * (_mapped(constant, dx, dy, shifted) - model) / step)
        jacobian = np.where(used[:, None, :], np.stack(columns, axis=1), 0.0)  # (n, 4, p)
        residual = np.where(used, data - flux[:, None] * model, 0.0)
        normal = np.einsum("nip,njp->nij", jacobian, jacobian) + 1e-12 * np.eye(4)
        change = np.linalg.solve(normal, np.einsum("nip,np->ni", jacobian, residual)[:, :, None])[:, :, 0]
        flux = np.maximum(flux + change[:, 0], 1e-12)
        maps += np.clip(change[:, 1:], -MAX_STEP, MAX_STEP)
        # within these bounds det A >= 0.2: the map stays invertible whatever a star's pixels say
        maps = np.clip(maps, MAP_BOUNDS[:, 0], MAP_BOUNDS[:, 1])
    model = _mapped(constant, dx, dy, maps)
    residual = np.where(used, data - flux[:, None] * model, 0.0)
    scatter = (residual**2).sum(axis=1) / np.maximum(used.sum(axis=1) - 4, 1)
    covariance = np.linalg.inv(normal)
    variance = scatter[:, None] * np.diagonal(covariance, axis1=1, axis2=2)[:, 1:]
    return maps, variance, flux


def _monomials(x: NDArray, y: NDArray, degree: int, xs: NDArray, ys: NDArray) -> NDArray[np.float64]:
    """(n, terms) products u^i v^j, i + j <= ``degree``, of the positions scaled to [-1, 1] over the nodes' span."""
    u = (x - 0.5 * (xs[0] + xs[-1])) / max(0.5 * (xs[-1] - xs[0]), 1e-12)
    v = (y - 0.5 * (ys[0] + ys[-1])) / max(0.5 * (ys[-1] - ys[0]), 1e-12)
    return np.stack([u**i * v**j for i in range(degree + 1) for j in range(degree + 1 - i)], axis=1)


def map_degree(n_stars: int) -> int:
    """Degree of the map's polynomial: ``MAP_DEGREE``, lowered until there are ``STARS_PER_TERM`` stars per term."""
    degree = MAP_DEGREE
    while degree > 0 and n_stars < STARS_PER_TERM * (degree + 1) * (degree + 2) // 2:
        degree -= 1
    return degree


def fit_map_polynomials(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    values: NDArray[np.float64],
    variance: NDArray[np.float64],
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.bool_], int]:
    """Stars' ``values`` (n, m) as polynomials of the position, evaluated on the nodes (y-major, ``xs`` x ``ys``).

    Each component is a polynomial of total degree :func:`map_degree` in the position (PSFEx's
    polynomial variation of PSF parameters, Bertin 2011), fitted by weighted least squares (weights
    1 / ``variance``). The stars scatter about a smooth map by more than their fits' errors (neighbours'
    light, the stack's mix of frames of different seeing), in proportion to them: each component's
    variances are scaled by the square of the kept stars' robust rms pull (never below 1), which keeps the
    bright stars' weight. Stars beyond ``CLIP_MAD`` MAD of the fit in any component are left out and the
    fit repeated until none is. A quartic can stay flat over the centre and steepen towards both edges (a
    quadratic cannot), and its 15 terms per component are fixed by a few hundred stars where a grid of
    nodes, each set by the few stars around it, follows their noise.

    Returns the node values, the stars kept and the degree used.
    """
    usable = np.all(np.isfinite(values) & np.isfinite(variance) & (variance > 0), axis=1)
    if usable.sum() < MIN_STARS:
        raise PSFMapError(f"only {usable.sum()} PSF stars with a fitted map: need >= {MIN_STARS} to map the PSF")
    degree = map_degree(int(usable.sum()))
    design = _monomials(np.asarray(x, float), np.asarray(y, float), degree, xs, ys)
    values, variance = np.where(usable[:, None], values, 0.0), np.where(usable[:, None], variance, 1.0)
    kept = usable.copy()
    coefficients = np.zeros((design.shape[1], values.shape[1]))
    scale = np.ones(values.shape[1])
    for _ in range(10):
        weights = np.where(kept[:, None], 1.0 / (variance * scale), 0.0)
        for component in range(values.shape[1]):
            root = np.sqrt(weights[:, component])
            coefficients[:, component] = np.linalg.lstsq(
                design * root[:, None], values[:, component] * root, rcond=None
            )[0]
        residual = values - design @ coefficients
        scale = np.maximum((1.4826 * np.median(np.abs(residual[kept]) / np.sqrt(variance[kept]), axis=0)) ** 2, 1.0)
        pulls = residual / np.sqrt(variance * scale)
        median = np.median(pulls[kept], axis=0)
        mad = 1.4826 * np.median(np.abs(pulls[kept] - median), axis=0)
        inliers = usable & np.all(np.abs(pulls - median) <= CLIP_MAD * np.maximum(mad, 1e-30), axis=1)
        if np.array_equal(inliers, kept):
            break
        kept = inliers
    grid_x, grid_y = np.meshgrid(xs, ys)
    return _monomials(grid_x.ravel(), grid_y.ravel(), degree, xs, ys) @ coefficients, kept, degree


def fit_distorted_epsf(
    signal: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    constant: PSFModel,
    fit_radius: float,
    nodes_per_axis: int = 9,
) -> tuple[VaryingPSFModel, dict]:
    """The varying ePSF of equation (1): each PSF star's map fitted, followed across the image, the ePSF mapped.

    Parameters
    ----------
    signal : numpy.ndarray
        Image of the PSF stars with background and neighbours subtracted.
    x, y, flux : numpy.ndarray
        The PSF stars' positions (pixels) and first fluxes.
    constant : PSFModel
        The constant ePSF.
    fit_radius : float
        The photometry's fit radius (pixels).
    nodes_per_axis : int
        Nodes per axis of the grid spanning the image.

    Returns
    -------
    VaryingPSFModel
        The mapped ePSF on every node.
    dict
        ``psf_map_stars`` (stars whose maps were kept), ``psf_map_degree`` (of the map's polynomials),
        ``psf_map_range`` (the nodes' smallest and largest size change (a + c) / 2).
    """
    maps, variance, _ = fit_star_maps(signal, x, y, flux, constant, fit_radius)
    nodes = node_positions(signal.shape, nodes_per_axis)
    xs, ys = np.unique(nodes[:, 0]), np.unique(nodes[:, 1])
    node_maps, kept, degree = fit_map_polynomials(np.asarray(x, float), np.asarray(y, float), maps, variance, xs, ys)
    core = FIT_WINDOW * fit_radius * constant.oversampling
    tables = np.array([distorted_table(constant.data, *node_map, core_radius=core) for node_map in node_maps])
    size = 0.5 * (node_maps[:, 0] + node_maps[:, 2])
    summary = {
        "psf_map_stars": int(kept.sum()),
        "psf_map_degree": degree,
        "psf_map_range": [float(size.min()), float(size.max())],
    }
    return VaryingPSFModel(tables, nodes, constant.oversampling), summary
