"""How uncertain the subtracted image is where stars were taken out: the threshold of the residual passes.

A star subtracted with an imperfect ePSF leaves residuals that grow with its
flux. Two parts are modelled, per pixel:

- DAOPHOT's *profile error*: a fixed fraction of the model itself (DAOPHOT
  II's ``PROFILE ERROR``, 5 % by default), for the core and inner wings;
- the ePSF's own pixel scatter in its outskirts (:func:`outskirt_scatter`),
  times the fluxes (in quadrature) of the stars whose ePSF stamp covers the
  pixel: an ePSF averaged from a few dozen stars carries their noise, which a
  star a hundred times brighter than them prints onto the subtracted image
  over its whole stamp, where the model itself is close to zero.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import uniform_filter

from astropipe.photometry.psf_model import PSFModel, StampModel

__all__ = ["outskirt_scatter", "subtraction_error"]

#: where the outskirts of an ePSF begin, as a fraction of its radius
OUTSKIRTS = 0.6


def outskirt_scatter(psf: StampModel) -> float:
    """Robust pixel scatter (1.4826 MAD) of a unit-flux ePSF beyond ``OUTSKIRTS`` of its radius (per pixel).

    For an ePSF varying across the image, the median over its nodes.

    Examples
    --------
    A narrow Gaussian ePSF is flat in its outskirts; noise of 1e-4 per unit flux gives ~1e-4.

    >>> import numpy as np
    >>> from astropipe.photometry.psf_model import PSFModel
    >>> v = (np.arange(61) - 30) / 2.0
    >>> gauss = np.exp(-(v[:, None] ** 2 + v[None, :] ** 2) / (2 * 2.0**2))
    >>> smooth = PSFModel(gauss / gauss.sum() * 4, oversampling=2)
    >>> bool(outskirt_scatter(smooth) < 1e-6)
    True
    >>> noisy = gauss / gauss.sum() * 4 + np.random.default_rng(1).normal(0.0, 1e-4, gauss.shape)
    >>> round(outskirt_scatter(PSFModel(noisy, oversampling=2)) / 1e-4, 1)
    1.0
    """
    data = np.asarray(psf.data, float)
    data = data[None] if data.ndim == 2 else data
    if isinstance(psf, PSFModel):  # a varying ePSF's nodes are stored at unit flux already
        data = data * psf.normalisation
    offsets = (np.arange(data.shape[-1]) - (data.shape[-1] - 1) / 2.0) / psf.oversampling
    ring = data[:, np.hypot(offsets[:, None], offsets[None, :]) >= OUTSKIRTS * psf.radius]
    deviation = np.abs(ring - np.median(ring, axis=1)[:, None])
    return float(np.median(1.4826 * np.median(deviation, axis=1)))


def subtraction_error(
    psf: StampModel,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    model: NDArray[np.float64],
    profile_error: float,
) -> NDArray[np.float64]:
    """Uncertainty of the subtracted stars' models in every pixel (image units).

    Parameters
    ----------
    psf : StampModel
        The ePSF the stars were subtracted with.
    x, y, flux : numpy.ndarray
        The subtracted stars (pixels; image units).
    model : numpy.ndarray
        Their rendered image.
    profile_error : float
        Fraction of the model (DAOPHOT's profile error; 0.05 is its default).

    Returns
    -------
    numpy.ndarray
        ``hypot(profile_error * model, outskirt_scatter(psf) * sqrt(sum of flux^2 over the stars whose
        stamp covers the pixel))``: the stars' outskirt errors fall on different ePSF pixels and add in
        quadrature.
    """
    ny, nx = model.shape
    squared_flux = np.zeros(model.shape)
    columns = np.clip(np.round(x).astype(int), 0, nx - 1)
    rows = np.clip(np.round(y).astype(int), 0, ny - 1)
    np.add.at(squared_flux, (rows, columns), np.clip(flux, 0.0, None) ** 2)
    size = 2 * psf.half + 1
    in_stamps = np.sqrt(np.clip(uniform_filter(squared_flux, size=size, mode="constant") * size**2, 0.0, None))
    return np.hypot(profile_error * model, outskirt_scatter(psf) * in_stamps)
