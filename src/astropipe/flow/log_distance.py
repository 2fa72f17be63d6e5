"""The supernova bulk flow fitted in log-distance space, beside the linearised-velocity fit.

Supernova distance errors are Gaussian in the distance modulus mu (log-normal in distance), so the
peculiar velocity c (z - z_d) / (1 + z_d) of one supernova has a skewed error that grows with
distance. As Cosmicflows does with log-distance ratios, the likelihood here is Gaussian in mu:

    mu_obs,n + dmu = mu(z_cos,n) + noise,   (1 + z_obs,n) = (1 + z_cos,n) (1 + V . r^_n / c)

(Davis & Scrimgeour 2014): the bulk flow V sets each supernova's cosmological redshift and hence its
predicted modulus; dmu is the distance zero point (the linearised fit's no-monopole offset). The
noise variance is (s sigma_mu,n)^2 + (sigma_v dmu/dv)^2, the error scale s and the velocity dispersion
sigma_v fitted with V and dmu by maximum likelihood; errors from the inverse Hessian of -ln L.
"""

from __future__ import annotations

import numpy as np
from astropy.cosmology import FlatLambdaCDM
from astropy.table import Table
from numpy.typing import NDArray
from scipy.optimize import minimize

from astropipe.derivatives import hessian
from astropipe.flow.geometry import SPEED_OF_LIGHT_KMS, direction_of, unit_vectors

__all__ = ["log_distance_flow"]

#: the velocity dispersion is fitted as sigma_v^2 in units of (100 km/s)^2, the flow in units of 100 km/s
_VELOCITY_UNIT = 100.0


class _ModulusOfRedshift:
    """mu(z) and dmu/dz of a flat LambdaCDM by interpolation on a fine grid (1e-4 < z < 2)."""

    def __init__(self, cosmology: FlatLambdaCDM) -> None:
        self.z = np.geomspace(1e-4, 2.0, 20000)
        self.mu = cosmology.distmod(self.z).value
        self.slope = np.gradient(self.mu, self.z)

    def __call__(self, z: NDArray) -> tuple[NDArray, NDArray]:
        return np.interp(z, self.z, self.mu), np.interp(z, self.z, self.slope)


def _negative_log_likelihood(
    params: NDArray, r_hat: NDArray, z_obs: NDArray, mu_obs: NDArray, mu_err: NDArray, modulus: _ModulusOfRedshift
) -> float:
    vector, offset = params[:3] * _VELOCITY_UNIT, params[3]
    scale, variance_v = np.exp(params[4]), params[5] * _VELOCITY_UNIT**2
    beta = (r_hat @ vector) / SPEED_OF_LIGHT_KMS
    z_cos = (1.0 + z_obs) / (1.0 + beta) - 1.0
    mu_model, dmu_dz = modulus(z_cos)
    dmu_dv = -dmu_dz * (1.0 + z_obs) / (SPEED_OF_LIGHT_KMS * (1.0 + beta) ** 2)
    variance = (scale * mu_err) ** 2 + variance_v * dmu_dv**2
    residual = mu_obs + offset - mu_model
    return 0.5 * float(np.sum(residual**2 / variance + np.log(variance)))


def log_distance_flow(
    objects: Table, h0: float = 73.0, omega_m: float = 0.3, start_dispersion_kms: float = 250.0
) -> dict:
    """Maximum-likelihood bulk flow of supernovae in distance-modulus space.

    Parameters
    ----------
    objects : astropy.table.Table
        From :func:`astropipe.flow.supernovae.prepare_supernovae`: ``l``, ``b`` (deg), ``cz_cmb`` (km/s),
        ``mu`` and ``mu_err`` (mag).
    h0, omega_m : float
        The flat LambdaCDM of the distance moduli (km/s/Mpc; the SH0ES scale uses 73).
    start_dispersion_kms : float
        Starting velocity dispersion.

    Returns
    -------
    dict
        ``vector_kms``, ``covariance_kms2``, ``amplitude_kms``, ``l_deg``, ``b_deg``,
        ``distance_modulus_offset_mag``, ``dispersion_kms``, ``error_scale`` (with ``_err``), ``chi2_per_dof``.

    Raises
    ------
    RuntimeError
        If the likelihood does not converge.
    """
    r_hat = unit_vectors(objects["l"], objects["b"])
    z_obs = np.asarray(objects["cz_cmb"], float) / SPEED_OF_LIGHT_KMS
    mu_obs, mu_err = np.asarray(objects["mu"], float), np.asarray(objects["mu_err"], float)
    modulus = _ModulusOfRedshift(FlatLambdaCDM(H0=h0, Om0=omega_m))
    arguments = (r_hat, z_obs, mu_obs, mu_err, modulus)
    start = np.array([0.0, 0.0, 0.0, 0.0, 0.0, (start_dispersion_kms / _VELOCITY_UNIT) ** 2])
    bounds = [(None, None)] * 5 + [(0.0, None)]
    result = minimize(
        _negative_log_likelihood,
        start,
        args=arguments,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 2000},
    )
    if not result.success:
        raise RuntimeError(f"the log-distance likelihood did not converge: {result.message}")
    curvature = hessian(lambda p: _negative_log_likelihood(p, *arguments), result.x)
    covariance = np.linalg.inv(curvature)
    vector = result.x[:3] * _VELOCITY_UNIT
    vector_covariance = covariance[:3, :3] * _VELOCITY_UNIT**2
    variance_v, variance_v_err = result.x[5] * _VELOCITY_UNIT**2, np.sqrt(covariance[5, 5]) * _VELOCITY_UNIT**2
    dispersion = float(np.sqrt(variance_v))
    scale = float(np.exp(result.x[4]))
    best = result.x
    beta = (r_hat @ vector) / SPEED_OF_LIGHT_KMS
    mu_model, dmu_dz = modulus((1.0 + z_obs) / (1.0 + beta) - 1.0)
    dmu_dv = dmu_dz * (1.0 + z_obs) / (SPEED_OF_LIGHT_KMS * (1.0 + beta) ** 2)
    variance = (scale * mu_err) ** 2 + variance_v * dmu_dv**2
    chi2 = float(np.sum((mu_obs + best[3] - mu_model) ** 2 / variance))
    amplitude, l_deg, b_deg = direction_of(vector)
    return {
        "vector_kms": vector.tolist(),
        "covariance_kms2": vector_covariance.tolist(),
        "amplitude_kms": amplitude,
        "l_deg": l_deg,
        "b_deg": b_deg,
        "distance_modulus_offset_mag": float(best[3]),
        "dispersion_kms": dispersion,
        "dispersion_err_kms": float(
            variance_v_err / (2 * dispersion) if variance_v > variance_v_err else np.sqrt(variance_v_err)
        ),
        "error_scale": scale,
        "error_scale_err": scale * float(np.sqrt(covariance[4, 4])),
        "chi2_per_dof": chi2 / (len(mu_obs) - 6),
    }
