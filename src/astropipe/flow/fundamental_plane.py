"""Inverse Fundamental Plane and cluster distances (Hudson et al. 1999, §2; Hudson et al. 1997).

The inverse FP regresses the distance-independent log sigma on the angular
radius and the surface brightness, with one zero point per cluster:

    log sigma_g = a log theta_g + b <mu>_e,g + gamma_k(g),

insensitive to selection on magnitude or size. Since log theta = log R_e -
log d, gamma_k = c + a log d_k: relative distances follow as
log d_k = (gamma_k - c) / a; the common c is fixed later by requiring no net
monopole. The per-cluster error is the scatter about the plane over sqrt(n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["InverseFP", "fit_inverse_fp"]


@dataclass
class InverseFP:
    slope_theta: float  # a
    slope_mu: float  # b
    zero_points: NDArray[np.float64]  # gamma_k
    zero_point_errors: NDArray[np.float64]
    rms_dex: float  # scatter of log sigma about the plane
    counts: NDArray[np.int64]

    def log_distance(self) -> NDArray[np.float64]:
        """log10 of the relative distances (up to the common zero point)."""
        return self.zero_points / self.slope_theta

    def fractional_error(self) -> NDArray[np.float64]:
        """Fractional (ln) distance error per cluster."""
        return np.log(10.0) * self.zero_point_errors / abs(self.slope_theta)

    def galaxy_distance_error(self) -> float:
        return float(np.log(10.0) * self.rms_dex / abs(self.slope_theta))


def fit_inverse_fp(
    log_sigma: NDArray,
    log_theta: NDArray,
    mu_e: NDArray,
    cluster_index: NDArray,
    n_clusters: int,
    weights: NDArray | None = None,
) -> InverseFP:
    """Least-squares inverse FP with cluster zero points (``weights`` e.g. bootstrap counts per galaxy)."""
    w = np.ones(log_sigma.size) if weights is None else np.asarray(weights, float)
    counts = np.bincount(cluster_index, weights=w, minlength=n_clusters)
    if np.any(counts < 2):
        raise ValueError(
            f"clusters with fewer than 2 galaxies cannot have an FP distance: {np.flatnonzero(counts < 2).tolist()}"
        )

    def demeaned(values):  # Frisch-Waugh-Lovell: the cluster zero points absorb the cluster means
        means = np.bincount(cluster_index, weights=w * values, minlength=n_clusters) / counts
        return values - means[cluster_index], means

    y, y_mean = demeaned(log_sigma)
    x1, x1_mean = demeaned(log_theta)
    x2, x2_mean = demeaned(mu_e)
    design = np.column_stack([x1, x2])
    slopes = np.linalg.solve((design * w[:, None]).T @ design, (design * w[:, None]).T @ y)
    zero_points = y_mean - slopes[0] * x1_mean - slopes[1] * x2_mean
    residual = y - design @ slopes
    dof = max(w.sum() - (2 + n_clusters), 1.0)
    rms = float(np.sqrt(np.sum(w * residual**2) / dof))
    coefficients = np.concatenate([slopes, zero_points])
    # per-cluster error: the scatter about the plane over sqrt(n); the slopes' uncertainty is common
    # to all clusters (a scale change absorbed by the zero point), not a cluster-to-cluster error
    return InverseFP(
        slope_theta=float(coefficients[0]),
        slope_mu=float(coefficients[1]),
        zero_points=coefficients[2:],
        zero_point_errors=rms / np.sqrt(counts),
        rms_dex=rms,
        counts=counts.astype(np.int64),
    )
