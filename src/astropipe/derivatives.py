"""Numerical derivatives for the uncertainties of maximum-likelihood fits (inverse Hessian of -ln L)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = ["hessian"]


def hessian(
    function: Callable[[NDArray[np.float64]], float], x: NDArray[np.float64], step: float = 1e-3
) -> NDArray[np.float64]:
    """Second derivatives of a scalar function by central differences (step in every coordinate).

    Diagonal: [f(x + h e_i) - 2 f(x) + f(x - h e_i)] / h^2; off-diagonal:
    [f(+h e_i + h e_j) - f(+h e_i - h e_j) - f(-h e_i + h e_j) + f(-h e_i - h e_j)] / 4h^2.
    """
    x = np.asarray(x, float)
    n, centre = x.size, function(x)
    unit = np.eye(n) * step
    result = np.empty((n, n))
    for i in range(n):
        result[i, i] = (function(x + unit[i]) - 2.0 * centre + function(x - unit[i])) / step**2
        for j in range(i):
            result[i, j] = result[j, i] = (
                function(x + unit[i] + unit[j])
                - function(x + unit[i] - unit[j])
                - function(x - unit[i] + unit[j])
                + function(x - unit[i] - unit[j])
            ) / (4 * step**2)
    return result
