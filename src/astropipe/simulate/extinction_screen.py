"""A patchy foreground extinction screen in front of a field's distant stars.

Towards the inner Galaxy the extinction varies on arcminute and smaller scales (the dust lanes seen in the
near-infrared extinction maps of the bulge and the Galactic centre), so the stars behind a field's edge are not
reddened quite as those behind its centre. Both decontaminations take the field region beyond the object disc to
stand for the field stars in front of and behind the cluster; a screen that differs between the two breaks that.

The screen is a Gaussian random field of E(H - K) with mean zero, standard deviation ``e_hk_rms`` and the
autocorrelation exp(-r^2 / (2 l^2)), l = ``correlation_arcsec``: white noise on a grid of pixel l / 5, smoothed
with a Gaussian kernel of standard deviation l / sqrt(2) (periodic boundaries) and scaled by the kernel's norm, so
that each grid value has the variance ``e_hk_rms`` squared exactly in the ensemble; values between grid points are
bilinear.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import fft, ndimage

__all__ = ["ExtinctionScreen", "ScreenRealisation"]

GRID_STEPS_PER_CORRELATION = 5  # grid pixels per correlation length


@dataclass(frozen=True)
class ExtinctionScreen:
    """The statistics of a patchy foreground screen.

    Attributes
    ----------
    e_hk_rms : float
        Standard deviation of the screen's E(H - K) across the sky (mag); 0 switches the screen off.
    correlation_arcsec : float
        Correlation length l of the screen (arcsec): the autocorrelation is exp(-r^2 / (2 l^2)).
    distance_kpc : float
        Distance of the screen (kpc): the stars beyond it (the bulge, a cluster beyond it, the farther disc stars)
        are reddened by it.
    """

    e_hk_rms: float = 0.0
    correlation_arcsec: float = 30.0
    distance_kpc: float = 4.0

    def draw(self, rng: np.random.Generator, half_size_arcsec: float) -> ScreenRealisation:
        """One realisation over the square patch of half side ``half_size_arcsec`` (arcsec) about the field centre."""
        step = self.correlation_arcsec / GRID_STEPS_PER_CORRELATION
        # one correlation length of margin on each side keeps the periodic wrap away from the patch
        n = int(np.ceil(2.0 * (half_size_arcsec + self.correlation_arcsec) / step)) + 1
        kernel_sigma = GRID_STEPS_PER_CORRELATION / np.sqrt(2.0)  # grid pixels
        kernel = _periodic_gaussian_kernel(n, kernel_sigma)
        smoothed = fft.irfft2(fft.rfft2(rng.standard_normal((n, n))) * fft.rfft2(kernel), s=(n, n))
        values = self.e_hk_rms * smoothed / np.sqrt(np.sum(kernel**2))
        origin = -(n - 1) * step / 2.0
        return ScreenRealisation(values=values, origin_arcsec=origin, step_arcsec=step)


def _periodic_gaussian_kernel(n: int, sigma: float) -> NDArray[np.float64]:
    """A normalised Gaussian of standard deviation ``sigma`` (pixels) centred on pixel (0, 0) of an n x n torus."""
    offset = np.minimum(np.arange(n), n - np.arange(n)).astype(float)
    profile = np.exp(-0.5 * (offset / sigma) ** 2)
    kernel = np.outer(profile, profile)
    return kernel / kernel.sum()


@dataclass(frozen=True)
class ScreenRealisation:
    """The screen's E(H - K) on a square grid of tangent-plane offsets.

    Attributes
    ----------
    values : ndarray
        E(H - K) (mag) on the grid, indexed [eta, xi].
    origin_arcsec : float
        Offset (arcsec) of the grid's first pixel in both xi and eta.
    step_arcsec : float
        Grid pixel (arcsec).
    """

    values: NDArray[np.float64]
    origin_arcsec: float
    step_arcsec: float

    def e_hk(self, xi: NDArray[np.float64], eta: NDArray[np.float64]) -> NDArray[np.float64]:
        """The screen's E(H - K) (mag) at tangent-plane offsets xi, eta (arcsec), bilinear between grid points."""
        rows = (np.asarray(eta, float) - self.origin_arcsec) / self.step_arcsec
        columns = (np.asarray(xi, float) - self.origin_arcsec) / self.step_arcsec
        return ndimage.map_coordinates(self.values, [rows, columns], order=1, mode="nearest")
