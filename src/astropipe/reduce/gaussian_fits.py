"""Least-squares fits of 2-D Gaussians to many stars at once: centroids and seeing.

Two estimators of photutils, computed for all stars together instead of one at a time:

* :func:`gaussian_centroids` is ``centroid_sources(..., centroid_func=centroid_2dg)``: in a box of
  ``box_size`` pixels around each position (cut at the image edges) the elliptical Gaussian
  ``G = A exp(-(a dx^2 + b dx dy + c dy^2))`` (astropy's ``Gaussian2D``, its (sigma_x, sigma_y, theta)
  written as the quadratic form (a, b, c)) is fitted, started from the moments of the box less its minimum.
* :func:`gaussian_fwhms` is ``photutils.psf.fit_fwhm``: the pixel-integrated circular Gaussian
  (``CircularGaussianPRF``: flux, x0, y0, FWHM) fitted in the same box, started from the box's sum and the
  FWHM guess.

In both, non-finite pixels are left out. Every star's fit runs in the same arrays: Levenberg-Marquardt
steps on all boxes together, each star with its own damping, until each converges. Where a fit converges
the minimum is photutils' one (to 1e-4 px in position and FWHM; ``tests/reduce/test_gaussian_fits.py``),
in a few per cent of the time; where photutils' fit wanders off (blends, the faintest stars) both
results are far from the star and are rejected by their callers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import erf

__all__ = ["gaussian_centroids", "gaussian_fwhms"]

#: Levenberg-Marquardt iterations at most (photutils' fitter stops after 100 evaluations)
MAX_ITERATIONS = 200
#: a fit has converged when chi^2 falls by less than this fraction in an accepted step
CONVERGED = 1e-12
#: a star whose damping grows beyond this has no step that lowers chi^2: it sits at its minimum
MAX_DAMPING = 1e12
#: FWHM of a Gaussian over its sigma
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))

#: model (n, pixels) and Jacobian (n, pixels, parameters) of the parameters (n, parameters)
Model = Callable[[NDArray], tuple[NDArray, NDArray]]


@dataclass(frozen=True)
class _StarBoxes:
    """The box of every star, flattened: pixel values (0 where unusable), weights (1 usable, 0 not), the box
    pixels' coordinates (``xx``, ``yy``, within the box) and the image pixel of each box's first column and row.
    """

    values: NDArray[np.float64]
    weights: NDArray[np.float64]
    xx: NDArray[np.float64]
    yy: NDArray[np.float64]
    column0: NDArray[np.int64]
    row0: NDArray[np.int64]

    @classmethod
    def cut(cls, image: NDArray, x: NDArray, y: NDArray, box_size: int) -> _StarBoxes:
        """Boxes of ``box_size`` placed as ``astropy.nddata.overlap_slices`` places them (first pixel
        ceil(position - size / 2)); the part outside the image is unusable."""
        ny, nx = image.shape
        outside = (x < 0) | (x > nx - 1) | (y < 0) | (y > ny - 1) | ~np.isfinite(x) | ~np.isfinite(y)
        if np.any(outside):
            k = int(np.argmax(outside))
            raise ValueError(f"star position ({x[k]}, {y[k]}) is not on the {nx} x {ny} image")
        column0 = np.ceil(x - box_size / 2.0).astype(int)
        row0 = np.ceil(y - box_size / 2.0).astype(int)
        padded = np.pad(image, box_size, constant_values=np.nan)
        offsets = np.arange(box_size) + box_size
        boxes = padded[(row0[:, None] + offsets)[:, :, None], (column0[:, None] + offsets)[:, None, :]]
        usable = np.isfinite(boxes).reshape(x.size, -1)
        yy, xx = (axis.ravel() for axis in np.indices((box_size, box_size), dtype=float))
        values = np.where(usable, boxes.reshape(x.size, -1), 0.0)
        return cls(values, usable.astype(float), xx, yy, column0, row0)

    @property
    def usable(self) -> NDArray[np.bool_]:
        return self.weights > 0

    def fittable(self, n_parameters: int) -> NDArray[np.bool_]:
        """Boxes with at least ``n_parameters`` usable pixels that are not all equal."""
        usable = self.usable
        spread = np.max(self.values, axis=1, where=usable, initial=-np.inf) - np.min(
            self.values, axis=1, where=usable, initial=np.inf
        )
        return (usable.sum(axis=1) >= n_parameters) & (spread > 0)


def _solve_each(matrices: NDArray, vectors: NDArray) -> tuple[NDArray, NDArray[np.bool_]]:
    """Solutions of the linear systems ``matrices`` x = ``vectors`` (NaN where a matrix is singular), and which
    were singular."""
    try:
        return np.linalg.solve(matrices, vectors[..., None])[..., 0], np.zeros(len(matrices), bool)
    except np.linalg.LinAlgError:  # one singular system fails the whole stack: solve them one by one
        solutions, singular = np.full(vectors.shape, np.nan), np.zeros(len(matrices), bool)
        for k, (matrix, vector) in enumerate(zip(matrices, vectors, strict=True)):
            try:
                solutions[k] = np.linalg.solve(matrix, vector)
            except np.linalg.LinAlgError:
                singular[k] = True
        return solutions, singular


def _levenberg_marquardt(boxes: _StarBoxes, parameters: NDArray, fittable: NDArray, model: Model) -> NDArray:
    """Least-squares parameters of every fittable box (the others keep their start), all boxes stepped together.

    A box whose damped normal matrix turns singular (its model went flat: e.g. a centre stepped so far out of
    the box that the Gaussian and all its derivatives vanish there) has no fit: NaN parameters."""
    parameters = parameters.copy()
    values, weights = boxes.values, boxes.weights
    current, jacobian = model(parameters)
    chi2 = np.sum(weights * (values - current) ** 2, axis=1)
    damping = np.full(len(parameters), 1e-3)
    active = fittable.copy()
    identity = np.eye(parameters.shape[1])
    for _ in range(MAX_ITERATIONS):
        index = np.flatnonzero(active)
        if index.size == 0:
            break
        residual = (values[index] - current[index]) * weights[index]
        normal = np.einsum("npi,npj->nij", jacobian[index] * weights[index, :, None], jacobian[index])
        gradient = np.einsum("npi,np->ni", jacobian[index], residual)
        damped = normal + damping[index, None, None] * np.einsum("ni,ij->nij", np.einsum("nii->ni", normal), identity)
        with np.errstate(all="ignore"):
            step, singular = _solve_each(damped, gradient)
            trial = parameters[index] + step
            trial_model, trial_jacobian = model(trial)
            trial_chi2 = np.sum(weights[index] * (values[index] - trial_model) ** 2, axis=1)
        better = np.isfinite(trial_chi2) & (trial_chi2 <= chi2[index])
        accepted = index[better]
        converged = accepted[chi2[accepted] - trial_chi2[better] <= CONVERGED * chi2[accepted]]
        parameters[accepted], current[accepted] = trial[better], trial_model[better]
        jacobian[accepted], chi2[accepted] = trial_jacobian[better], trial_chi2[better]
        damping[accepted] /= 10.0
        damping[index[~better]] *= 10.0
        active[converged] = False
        active[index[~better & (damping[index] > MAX_DAMPING)]] = False
        parameters[index[singular]], active[index[singular]] = np.nan, False
    return parameters


def _moments(boxes: _StarBoxes) -> NDArray[np.float64]:
    """(A, x0, y0, a, b, c) of every box from its moments: photutils' ``_gaussian2d_moments`` of the box less
    its minimum over the usable pixels, the unusable ones zero."""
    usable = boxes.usable
    minimum = np.min(boxes.values, axis=1, where=usable, initial=np.inf)
    shifted = np.where(usable, boxes.values - minimum[:, None], 0.0)
    total = shifted.sum(axis=1)
    with np.errstate(all="ignore"):
        x_mean, y_mean = (shifted @ boxes.xx) / total, (shifted @ boxes.yy) / total
        dx, dy = boxes.xx[None] - x_mean[:, None], boxes.yy[None] - y_mean[:, None]
        mu_20, mu_02 = (shifted * dx**2).sum(axis=1) / total, (shifted * dy**2).sum(axis=1) / total
        mu_11 = (shifted * dx * dy).sum(axis=1) / total
        covariance = np.stack([np.stack([mu_02, mu_11], -1), np.stack([mu_11, mu_20], -1)], -2)
        eigenvalues = np.clip(np.linalg.eigvalsh(np.nan_to_num(covariance))[:, ::-1], 0.0, None)
        x_var, y_var = eigenvalues[:, 0], eigenvalues[:, 1]
        anisotropy = np.sqrt((mu_20 - mu_02) ** 2 + (2.0 * mu_11) ** 2)
        theta = np.where(anisotropy < 1e-6 * (mu_20 + mu_02), 0.0, 0.5 * np.arctan2(2.0 * mu_11, mu_20 - mu_02))
        cos2, sin2, sin2t = np.cos(theta) ** 2, np.sin(theta) ** 2, np.sin(2.0 * theta)
        a = 0.5 * (cos2 / x_var + sin2 / y_var)
        b = 0.5 * (sin2t / x_var - sin2t / y_var)
        c = 0.5 * (sin2 / x_var + cos2 / y_var)
    return np.column_stack([shifted.max(axis=1), x_mean, y_mean, a, b, c])


def _elliptical_gaussian(boxes: _StarBoxes) -> Model:
    def model(parameters: NDArray) -> tuple[NDArray, NDArray]:
        amplitude, x0, y0, a, b, c = (parameters[:, k, None] for k in range(6))
        dx, dy = boxes.xx[None] - x0, boxes.yy[None] - y0
        shape = np.exp(-(a * dx**2 + b * dx * dy + c * dy**2))
        value = amplitude * shape
        derivatives = [
            shape,
            value * (2.0 * a * dx + b * dy),
            value * (b * dx + 2.0 * c * dy),
            -value * dx**2,
            -value * dx * dy,
            -value * dy**2,
        ]
        return value, np.stack(derivatives, axis=-1)

    return model


def _pixel_integrated_gaussian(boxes: _StarBoxes) -> Model:
    def model(parameters: NDArray) -> tuple[NDArray, NDArray]:
        flux, x0, y0, fwhm = (parameters[:, k, None] for k in range(4))
        scale = np.sqrt(2.0) * fwhm / FWHM_PER_SIGMA  # sqrt(2) sigma

        def along(offset: NDArray) -> tuple[NDArray, NDArray, NDArray]:
            """The pixel's share along one axis, and its derivatives by the centre and by ``scale``."""
            upper, lower = (offset + 0.5) / scale, (offset - 0.5) / scale
            gauss_upper, gauss_lower = np.exp(-(upper**2)), np.exp(-(lower**2))
            share = 0.5 * (erf(upper) - erf(lower))
            by_centre = -(gauss_upper - gauss_lower) / (np.sqrt(np.pi) * scale)
            by_scale = -(upper * gauss_upper - lower * gauss_lower) / (np.sqrt(np.pi) * scale)
            return share, by_centre, by_scale

        share_x, centre_x, scale_x = along(boxes.xx[None] - x0)
        share_y, centre_y, scale_y = along(boxes.yy[None] - y0)
        value = flux * share_x * share_y
        by_fwhm = flux * (scale_x * share_y + share_x * scale_y) * np.sqrt(2.0) / FWHM_PER_SIGMA
        derivatives = [share_x * share_y, flux * centre_x * share_y, flux * share_x * centre_y, by_fwhm]
        return value, np.stack(derivatives, axis=-1)

    return model


def _positions(x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))


def gaussian_centroids(
    image: ArrayLike, x: ArrayLike, y: ArrayLike, box_size: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Centroids (pixels) of the stars near (``x``, ``y``) from elliptical Gaussian fits (photutils' ``centroid_2dg``).

    Parameters
    ----------
    image : array_like (ny, nx)
        Background-subtracted image; NaN pixels are left out of the fits.
    x, y : array_like (n,)
        Starting positions, pixels (0-based, pixel centres at integers).
    box_size : int
        Side of the fitted box, pixels (odd).

    Returns
    -------
    (x, y) : tuple of numpy.ndarray
        The fitted centres; NaN where a box has fewer than six usable pixels, is constant, or its fit does
        not give finite numbers.
    """
    x, y = _positions(x, y)
    boxes = _StarBoxes.cut(np.asarray(image, float), x, y, box_size)
    start = _moments(boxes)
    fittable = boxes.fittable(6) & np.all(np.isfinite(start), axis=1)
    fitted = _levenberg_marquardt(boxes, np.where(fittable[:, None], start, 0.0), fittable, _elliptical_gaussian(boxes))
    x_fit, y_fit = fitted[:, 1] + boxes.column0, fitted[:, 2] + boxes.row0
    good = fittable & np.isfinite(x_fit) & np.isfinite(y_fit)
    return np.where(good, x_fit, np.nan), np.where(good, y_fit, np.nan)


def gaussian_fwhms(image: ArrayLike, x: ArrayLike, y: ArrayLike, box_size: int, fwhm: float) -> NDArray[np.float64]:
    """FWHM (pixels) of the stars near (``x``, ``y``) from pixel-integrated circular Gaussian fits (photutils'
    ``fit_fwhm``).

    Parameters
    ----------
    image : array_like (ny, nx)
        Background-subtracted image; NaN pixels are left out of the fits.
    x, y : array_like (n,)
        Starting positions, pixels.
    box_size : int
        Side of the fitted box, pixels (odd).
    fwhm : float
        Starting FWHM, pixels.

    Returns
    -------
    numpy.ndarray
        Each star's fitted FWHM; NaN where a box has fewer than four usable pixels, is constant, or its fit
        does not give a finite, non-zero FWHM.
    """
    x, y = _positions(x, y)
    boxes = _StarBoxes.cut(np.asarray(image, float), x, y, box_size)
    start = np.column_stack([boxes.values.sum(axis=1), x - boxes.column0, y - boxes.row0, np.full(x.size, fwhm)])
    fittable = boxes.fittable(4)
    # the model depends on the FWHM's square only: a fit that crosses zero ends at the FWHM's negative
    fitted = np.abs(_levenberg_marquardt(boxes, start, fittable, _pixel_integrated_gaussian(boxes))[:, 3])
    return np.where(fittable & np.isfinite(fitted) & (fitted > 0), fitted, np.nan)
