"""The error model of a peculiar-velocity sample, fitted by maximum likelihood.

Each object's velocity error is taken as

    var_i = (s * e_i)^2 + sigma_v^2,

with e_i the quoted measurement error (km/s), s a scale of those errors and sigma_v the velocity
dispersion about the bulk flow (thermal motions and whatever the quoted errors miss). Quoted errors
are not always statistical: the Pantheon+ diagonal distance-modulus errors give chi^2/dof ~ 0.5 with a
250 km/s dispersion, so fixing s = 1 and sigma_v = 250 km/s would overstate the flow's error.

(s, sigma_v) maximise the likelihood of v_i = V . r_i + g_i dmu + noise, with the flow V and a distance
zero-point shift dmu (g_i = dv_i/dmu) profiled out by generalised least squares at each (s, sigma_v).
Their errors come from the inverse Hessian of -ln L at the maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

from astropipe.derivatives import hessian

__all__ = ["ErrorModel", "fit_error_model"]


@dataclass(frozen=True)
class ErrorModel:
    """Velocity errors sqrt((error_scale e)^2 + dispersion_kms^2); the uncertainties are those of the fit (0 if fixed)."""

    dispersion_kms: float
    error_scale: float = 1.0
    dispersion_err_kms: float = 0.0
    error_scale_err: float = 0.0

    def errors(self, quoted_kms: ArrayLike) -> NDArray[np.float64]:
        """Total velocity errors (km/s) of objects with quoted errors ``quoted_kms``."""
        return np.sqrt((self.error_scale * np.asarray(quoted_kms, float)) ** 2 + self.dispersion_kms**2)


#: the squared dispersion is fitted in units of (100 km/s)^2, so that one finite-difference step suits both parameters
_VARIANCE_UNIT = 1.0e4


def _profiled_negative_log_likelihood(params: NDArray, design: NDArray, velocity: NDArray, quoted: NDArray) -> float:
    """-ln L at (ln s, sigma_v^2 / (100 km/s)^2), the flow and zero point fitted by generalised least squares."""
    variance = (np.exp(params[0]) * quoted) ** 2 + params[1] * _VARIANCE_UNIT
    weighted = design / variance[:, None]
    coefficients = np.linalg.solve(design.T @ weighted, weighted.T @ velocity)
    residual = velocity - design @ coefficients
    return 0.5 * float(np.sum(np.log(variance) + residual**2 / variance))


def fit_error_model(
    r_hat: ArrayLike,
    velocity: ArrayLike,
    quoted_kms: ArrayLike,
    zero_point_slope: ArrayLike,
    start_dispersion_kms: float = 250.0,
) -> ErrorModel:
    """Maximum-likelihood error scale and velocity dispersion of a sample (see the module docstring).

    The dispersion is fitted as sigma_v^2 >= 0, so a sample whose quoted errors explain all the scatter
    gives sigma_v = 0 rather than a failed fit; its error is then the 1-sigma width in sigma_v itself.

    Parameters
    ----------
    r_hat : array_like (n, 3)
        Unit vectors of the objects.
    velocity : array_like (n,)
        Peculiar velocities, km/s.
    quoted_kms : array_like (n,)
        Quoted velocity errors e_i, km/s.
    zero_point_slope : array_like (n,)
        dv/dmu of each object (km/s per mag): the distance zero point is fitted with the flow.
    start_dispersion_kms : float
        Starting value of sigma_v.
    """
    r_hat, velocity, quoted = (np.asarray(a, float) for a in (r_hat, velocity, quoted_kms))
    design = np.column_stack([r_hat, np.asarray(zero_point_slope, float)])
    start = np.array([0.0, start_dispersion_kms**2 / _VARIANCE_UNIT])
    result = minimize(
        _profiled_negative_log_likelihood,
        start,
        args=(design, velocity, quoted),
        method="L-BFGS-B",
        bounds=[(None, None), (0.0, None)],
        options={"ftol": 1e-14, "gtol": 1e-10},
    )
    if not result.success:
        raise RuntimeError(f"the error-model likelihood did not converge: {result.message}")
    curvature = hessian(lambda p: _profiled_negative_log_likelihood(p, design, velocity, quoted), result.x)
    covariance = np.linalg.inv(curvature) if np.all(np.linalg.eigvalsh(curvature) > 0) else np.full((2, 2), np.nan)
    scale = float(np.exp(result.x[0]))
    variance, variance_err = result.x[1] * _VARIANCE_UNIT, np.sqrt(covariance[1, 1]) * _VARIANCE_UNIT
    dispersion = float(np.sqrt(variance))
    # delta method away from zero; near zero the 1-sigma width of sigma_v^2 read as a dispersion
    dispersion_err = variance_err / (2 * dispersion) if dispersion**2 > variance_err else np.sqrt(variance_err)
    return ErrorModel(
        dispersion_kms=dispersion,
        error_scale=scale,
        dispersion_err_kms=float(dispersion_err),
        error_scale_err=scale * float(np.sqrt(covariance[0, 0])),
    )
