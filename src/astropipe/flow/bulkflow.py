"""The bulk-flow fit of Hudson et al. (1999), eq. 1.

chi^2 = sum_i (v_i - V . r_i)^2 / eps_i^2, eps_i^2 = sigma_d,i^2 + sigma_cz,i^2 + sigma_th^2,
minimised in closed form: V = A^-1 b with A = sum r r^T / eps^2 and
b = sum r v / eps^2; the covariance of V is A^-1. Reported: V and its
covariance, |V| and its error, the error-bias corrected amplitude
sqrt(|V|^2 - tr C) (Lauer & Postman 1994), (l, b) with errors by propagation,
the error ellipsoid (principal axes and their directions), chi^2 against
rest (3 degrees of freedom), the 95 % lower limit on |V| from its profile
likelihood (:mod:`astropipe.flow.amplitude`) and the
error-weighted depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import ConvexHull, QhullError
from scipy.stats import chi2

from astropipe.flow.amplitude import amplitude_lower_limit
from astropipe.flow.geometry import direction_of

__all__ = [
    "MAX_CONDITION",
    "WARN_CONDITION",
    "BulkFlow",
    "check_flow_inputs",
    "fit_bulk_flow",
    "normal_matrix_condition",
]


@dataclass
class BulkFlow:
    vector: NDArray[np.float64]
    covariance: NDArray[np.float64]
    chi2: float
    n_objects: int
    depth_kms: float

    def summary(self) -> dict:
        """The published results (``results/flow/{survey}/bulkflow.json``; keys in docs/outputs.md)."""
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
            # an axis is a line: quote the end in the flow's hemisphere, as Hudson et al. (1999) do
            _, la, ba = direction_of(vector if vector @ self.vector >= 0 else -vector)
            axes.append({"sigma_kms": float(np.sqrt(value)), "l_deg": la, "b_deg": ba})
        delta_chi2 = float(self.vector @ np.linalg.solve(self.covariance, self.vector))
        condition = float(values[-1] / values[0])
        geometry = {"normal_matrix_condition": condition, "axis_error_ratio": float(np.sqrt(condition)), "warnings": []}
        if condition > WARN_CONDITION:
            geometry["warnings"].append(
                f"the sky coverage constrains the flow poorly along (l, b) = "
                f"({axes[-1]['l_deg']:.0f}, {axes[-1]['b_deg']:.0f}) deg: its error is "
                f"{np.sqrt(condition):.0f} times the best-measured component's"
            )
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
            "geometry": geometry,
            "delta_chi2_rest": delta_chi2,
            "p_rest": float(chi2.sf(delta_chi2, 3)),
            "lower95_kms": amplitude_lower_limit(self.vector, self.covariance),
            "chi2": self.chi2,
            "n_objects": self.n_objects,
            "depth_kms": self.depth_kms,
        }


#: largest condition number of the normal matrix accepted: the worst-constrained component's error
#: at most 100 times the best one's (the paper's survey: 2.1 times, condition 4.6)
MAX_CONDITION = 1.0e4
#: above this condition number (error ratio > 10) the summary carries a warning
WARN_CONDITION = 1.0e2


def _in_open_hemisphere(r_hat: NDArray) -> bool | None:
    """True if a plane through the observer has every direction strictly on one side; None if they are coplanar.

    The directions fill no open hemisphere exactly when the origin lies inside their convex hull. The
    answer is remembered for the last directions seen (resampling asks again for the same sky).
    """
    return _hemisphere_of(np.ascontiguousarray(r_hat, dtype=float).tobytes(), len(r_hat))


@lru_cache(maxsize=256)
def _hemisphere_of(directions: bytes, n: int) -> bool | None:
    try:
        hull = ConvexHull(np.frombuffer(directions, dtype=float).reshape(n, 3))
    except QhullError:
        return None
    return bool(np.any(hull.equations[:, -1] >= -1e-12))


def check_flow_inputs(r_hat: NDArray, velocity: NDArray, error: NDArray) -> None:
    """Raise ValueError for inputs a bulk flow cannot be fitted to, naming the problem.

    Refused: fewer than 4 objects, non-finite values, non-positive errors, directions that are not
    unit vectors, and geometries that cannot constrain the three components: every object in one
    hemisphere (the monopole, set to zero, and the dipole are then degenerate), every object in
    one plane, or a normal matrix with a condition number above :data:`MAX_CONDITION`.
    """
    if len(velocity) < 4:
        raise ValueError(f"bulk flow needs at least 4 objects; got {len(velocity)}")
    for name, values in (("direction", r_hat), ("velocity", velocity), ("error", error)):
        if not np.all(np.isfinite(values)):
            raise ValueError(
                f"bulk flow input {name!r} contains NaN or infinite values at {np.argwhere(~np.isfinite(values))[:3].tolist()}"
            )
    if np.any(error <= 0):
        raise ValueError(f"bulk flow errors must be positive; got {error[error <= 0][:3].tolist()}")
    norms = np.linalg.norm(r_hat, axis=1)
    if np.any(np.abs(norms - 1.0) > 1e-6):
        row = int(np.argmax(np.abs(norms - 1.0)))
        raise ValueError(f"bulk flow directions must be unit vectors; row {row} has length {norms[row]:.6g}")
    hemisphere = _in_open_hemisphere(r_hat)
    if hemisphere is None:
        raise ValueError(
            "all objects lie in one plane through the observer: the component perpendicular to it cannot be measured"
        )
    if hemisphere:
        raise ValueError("all objects lie in one hemisphere: the monopole and the dipole are degenerate")
    condition = normal_matrix_condition(r_hat, error)
    if condition > MAX_CONDITION:
        raise ValueError(
            f"singular normal matrix (condition number {condition:.3g} > {MAX_CONDITION:g}): the sky "
            f"coverage cannot constrain all three components (their errors would differ by a factor "
            f"{np.sqrt(condition):.0f})"
        )


def normal_matrix_condition(r_hat: NDArray, error: NDArray) -> float:
    """Condition number of the weighted normal matrix sum r r^T / eps^2 of the dipole fit."""
    normal = (r_hat / error[:, None] ** 2).T @ r_hat
    return float(np.linalg.cond(normal))


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

    Examples
    --------
    Six objects along the Galactic axes, noise-free velocities of a flow (300, -200, 100) km/s:

    >>> import numpy as np
    >>> from astropipe.flow.bulkflow import fit_bulk_flow
    >>> from astropipe.flow.geometry import unit_vectors
    >>> r_hat = unit_vectors([0, 90, 180, 270, 0, 0], [0, 0, 0, 0, 90, -90])
    >>> flow = fit_bulk_flow(r_hat, r_hat @ np.array([300.0, -200.0, 100.0]), np.full(6, 250.0))
    >>> np.round(flow.vector, 6).tolist()
    [300.0, -200.0, 100.0]
    >>> np.round(np.sqrt(np.diag(flow.covariance)), 1).tolist()  # 250 / sqrt(2): two objects per axis
    [176.8, 176.8, 176.8]
    """
    r_hat, velocity, error = (np.asarray(a, dtype=float) for a in (r_hat, velocity, error))
    check_flow_inputs(r_hat, velocity, error)
    weight = 1.0 / error**2
    normal = (r_hat * weight[:, None]).T @ r_hat
    vector = np.linalg.solve(normal, (r_hat * (weight * velocity)[:, None]).sum(axis=0))
    residual = velocity - r_hat @ vector
    depth_kms = float(np.sum(weight * depth) / np.sum(weight)) if depth is not None else float("nan")
    return BulkFlow(
        vector=vector,
        covariance=np.linalg.inv(normal),
        chi2=float(np.sum(weight * residual**2)),
        n_objects=int(velocity.size),
        depth_kms=depth_kms,
    )
