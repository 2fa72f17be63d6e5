"""Does the PSF vary across the image? Structure in the residuals of a constant ePSF.

After a constant ePSF has been fitted, each PSF star's residual (data minus
model, neighbours subtracted) is reduced to three Gaussian-weighted second
moments per unit flux: the size mismatch sum r w (dx^2 + dy^2) / F and the
two ellipticity mismatches sum r w (dx^2 - dy^2) / F and sum r w 2 dx dy / F
(the quantities PSF models in weak lensing are checked with). A PSF that is
the same everywhere leaves moments scattered about one value; a PSF that
changes with position leaves moments that follow the position. Each moment is
fitted with a quadratic in (x, y) and with a constant (outliers - undetected
companions, cosmic-ray residuals - clipped at 4 MAD first), and the F-test
compares the two: the PSF is taken to vary when any of the three p-values,
Bonferroni-corrected, lies below ``p_threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from astropipe.photometry.psf_model import StampModel

__all__ = ["ResidualStructure", "residual_moments", "residual_structure"]

MOMENT_NAMES = ("size", "e1", "e2")


@dataclass(frozen=True)
class ResidualStructure:
    """Outcome of the test: the F-test p-value of each moment (Bonferroni-corrected), stars used, verdict."""

    p_values: dict[str, float]
    n_stars: int
    varies: bool


def residual_moments(
    signal: NDArray[np.float64],
    psf: StampModel,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    fwhm: float,
) -> NDArray[np.float64]:
    """(n, 3) moments (size, e1, e2) of each star's residual per unit flux, in pixels^2.

    ``signal`` holds the stars alone (background and neighbours subtracted); the weight is a Gaussian of
    sigma = FWHM / 2.355 centred on the fitted position.
    """
    stamps = psf.stamps(x, y)
    index, inside = stamps.flat_index(signal.shape)
    data = np.where(inside, np.nan_to_num(signal.ravel()[index], nan=0.0), 0.0).reshape(stamps.values.shape)
    residual = (data - flux[:, None, None] * stamps.values) / flux[:, None, None]
    dx = stamps.px[:, None, :] - x[:, None, None]
    dy = stamps.py[:, :, None] - y[:, None, None]
    sigma2 = (fwhm / 2.3548) ** 2
    weight = np.exp(-0.5 * (dx * dx + dy * dy) / sigma2) * inside.reshape(stamps.values.shape)
    return np.column_stack(
        [
            (residual * weight * (dx * dx + dy * dy)).sum(axis=(1, 2)),
            (residual * weight * (dx * dx - dy * dy)).sum(axis=(1, 2)),
            (residual * weight * 2 * dx * dy).sum(axis=(1, 2)),
        ]
    )


def _f_test(design: NDArray, values: NDArray) -> float:
    """p-value of the F-test of a fit with ``design`` against a constant, after clipping 4-MAD outliers."""
    keep = np.ones(values.size, dtype=bool)
    for _ in range(3):
        coefficients = np.linalg.lstsq(design[keep], values[keep], rcond=None)[0]
        deviation = values - design @ coefficients
        mad = 1.4826 * np.median(np.abs(deviation[keep] - np.median(deviation[keep])))
        new_keep = np.abs(deviation) <= 4 * mad if mad > 0 else keep
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    n, k = int(keep.sum()), design.shape[1]
    if n <= k + 2:
        return 1.0
    full = float(
        np.sum((values[keep] - design[keep] @ np.linalg.lstsq(design[keep], values[keep], rcond=None)[0]) ** 2)
    )
    constant = float(np.sum((values[keep] - values[keep].mean()) ** 2))
    if full <= 0:
        return 0.0 if constant > 0 else 1.0
    f = ((constant - full) / (k - 1)) / (full / (n - k))
    return float(stats.f.sf(f, k - 1, n - k))


def residual_structure(
    signal: NDArray[np.float64],
    psf: StampModel,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    fwhm: float,
    p_threshold: float = 1e-3,
) -> ResidualStructure:
    """Test the residuals of ``psf`` on the PSF stars (x, y, flux) for a dependence on position.

    Parameters
    ----------
    signal : numpy.ndarray
        Image of the PSF stars with background and neighbours subtracted.
    psf : StampModel
        The constant ePSF fitted to them.
    x, y, flux : numpy.ndarray
        Their fitted positions (pixels) and fluxes.
    fwhm : float
        PSF FWHM, pixels (the moments' Gaussian weight).
    p_threshold : float
        False-alarm probability of the verdict (the three p-values are multiplied by 3).

    Returns
    -------
    ResidualStructure
    """
    moments = residual_moments(signal, psf, x, y, flux, fwhm)
    ny, nx = signal.shape
    u, v = 2 * x / nx - 1, 2 * y / ny - 1
    design = np.column_stack([np.ones_like(u), u, v, u * u, u * v, v * v])
    p_values = {name: min(1.0, 3 * _f_test(design, moments[:, i])) for i, name in enumerate(MOMENT_NAMES)}
    return ResidualStructure(p_values, int(x.size), min(p_values.values()) < p_threshold)
