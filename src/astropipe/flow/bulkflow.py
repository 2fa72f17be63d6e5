"""The bulk-flow fit of Hudson et al. (1999), eq. 1.

chi^2 = sum_i (v_i - V . r_i)^2 / eps_i^2, eps_i^2 = sigma_d,i^2 + sigma_cz,i^2 + sigma_th^2,
minimised in closed form: V = A^-1 b with A = sum r r^T / eps^2 and
b = sum r v / eps^2; the covariance of V is A^-1. Reported: V and its
covariance, |V| and its error, the error-bias corrected amplitude
sqrt(|V|^2 - tr C) (Lauer & Postman 1994), (l, b) with errors by propagation,
the error ellipsoid (principal axes and their directions), chi^2 against
rest (3 degrees of freedom), the 95 % lower limit on |V| and the
error-weighted depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2

from astropipe.flow.geometry import direction_of

__all__ = ["BulkFlow", "check_flow_inputs", "fit_bulk_flow"]


@dataclass
class BulkFlow:
    vector: NDArray[np.float64]
    covariance: NDArray[np.float64]
    chi2: float
    n_objects: int
    depth_kms: float

    def summary(self, rng: np.random.Generator | None = None, draws: int = 100000) -> dict:
        """The results contract of DESIGN.md (``results/flow/{survey}/bulkflow.json``)."""
        amplitude, l_deg, b_deg = direction_of(self.vector)
        unit = self.vector / amplitude
        amplitude_err = float(np.sqrt(unit @ self.covariance @ unit))
        x, y, z = self.vector
        rho2 = x * x + y * y
        # Jacobians of l = atan2(y, x) and b = asin(z / |V|)
        grad_l = np.array([-y, x, 0.0]) / rho2
        grad_b = np.array([-x * z, -y * z, rho2]) / (amplitude**2 * np.sqrt(rho2))
        values, vectors = np.linalg.eigh(self.covariance)
        axes = []
        for value, vector in zip(values, vectors.T, strict=True):
            _, la, ba = direction_of(vector if vector[2] >= 0 else -vector)
            axes.append({"sigma_kms": float(np.sqrt(value)), "l_deg": la, "b_deg": ba})
        delta_chi2 = float(self.vector @ np.linalg.solve(self.covariance, self.vector))
        rng = rng or np.random.default_rng(0)
        samples = rng.multivariate_normal(self.vector, self.covariance, size=draws)
        return {
            "vector_kms": [float(v) for v in self.vector],
            "covariance_kms2": self.covariance.tolist(),
            "amplitude_kms": amplitude,
            "amplitude_err_kms": amplitude_err,
            "amplitude_debiased_kms": float(np.sqrt(max(amplitude**2 - np.trace(self.covariance), 0.0))),
            "l_deg": l_deg,
            "l_err_deg": float(np.degrees(np.sqrt(grad_l @ self.covariance @ grad_l))),
            "b_deg": b_deg,
            "b_err_deg": float(np.degrees(np.sqrt(grad_b @ self.covariance @ grad_b))),
            "error_ellipsoid": axes,
            "delta_chi2_rest": delta_chi2,
            "p_rest": float(chi2.sf(delta_chi2, 3)),
            "lower95_kms": float(np.percentile(np.linalg.norm(samples, axis=1), 5.0)),
            "chi2": self.chi2,
            "n_objects": self.n_objects,
            "depth_kms": self.depth_kms,
        }


def check_flow_inputs(r_hat: NDArray, velocity: NDArray, error: NDArray) -> None:
    """Raise ValueError for inputs a bulk flow cannot be fitted to, naming the problem."""
    if len(velocity) < 4:
        raise ValueError(f"bulk flow needs at least 4 objects; got {len(velocity)}")
    for name, values in (("direction", r_hat), ("velocity", velocity), ("error", error)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"bulk flow input {name!r} contains NaN or infinite values at {np.argwhere(~np.isfinite(values))[:3].tolist()}")
    if np.any(error <= 0):
        raise ValueError(f"bulk flow errors must be positive; got {error[error <= 0][:3].tolist()}")
    mean = r_hat.mean(axis=0)
    if np.linalg.norm(mean) > 0 and np.all(r_hat @ (mean / np.linalg.norm(mean)) > 0):
        raise ValueError("all objects lie in one hemisphere: the monopole and the dipole are degenerate")


def fit_bulk_flow(r_hat: ArrayLike, velocity: ArrayLike, error: ArrayLike, depth: ArrayLike | None = None) -> BulkFlow:
    """Minimum-chi^2 bulk flow (eq. 1).

    Parameters
    ----------
    r_hat : array_like (n, 3)
        Unit vectors (Galactic Cartesian).
    velocity : array_like (n,)
        Radial peculiar velocities, km/s.
    error : array_like (n,)
        Total errors eps_i (distance, cz and thermal in quadrature), km/s.
    depth : array_like (n,), optional
        Distances (km/s) for the error-weighted depth.

    Raises
    ------
    ValueError
        Too few objects, NaNs, non-positive errors, one hemisphere, singular normal matrix.
    """
    r_hat, velocity, error = (np.asarray(a, dtype=float) for a in (r_hat, velocity, error))
    check_flow_inputs(r_hat, velocity, error)
    weight = 1.0 / error**2
    normal = (r_hat * weight[:, None]).T @ r_hat
    if np.linalg.cond(normal) > 1e12:
        raise ValueError(f"singular normal matrix (condition number {np.linalg.cond(normal):.3g}): directions too degenerate")
    vector = np.linalg.solve(normal, (r_hat * (weight * velocity)[:, None]).sum(axis=0))
    residual = velocity - r_hat @ vector
    depth_kms = float(np.sum(weight * depth) / np.sum(weight)) if depth is not None else float("nan")
    return BulkFlow(vector=vector, covariance=np.linalg.inv(normal), chi2=float(np.sum(weight * residual**2)),
                    n_objects=int(velocity.size), depth_kms=depth_kms)  # fmt: skip
