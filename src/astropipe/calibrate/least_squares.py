"""Weighted linear least squares, shared by the calibration fits."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["weighted_least_squares"]


def weighted_least_squares(
    design: NDArray[np.float64], y: NDArray[np.float64], sigma: NDArray[np.float64], what: str = "fit"
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Minimise sum(((y - design @ p) / sigma)^2).

    Returns
    -------
    parameters, covariance (formal, from the errors), residuals

    Raises
    ------
    ValueError
        A singular or near-singular normal matrix (the data do not constrain the parameters).
    """
    weights = 1.0 / np.asarray(sigma, float) ** 2
    normal = design.T @ (design * weights[:, None])
    if np.linalg.cond(normal) > 1e12:
        raise ValueError(f"{what}: the data do not constrain the parameters (singular normal matrix)")
    covariance = np.linalg.inv(normal)
    parameters = covariance @ (design.T @ (weights * y))
    return parameters, covariance, y - design @ parameters
