"""An image to measure: a stack of this workflow or an image a user reduced elsewhere.

A stack of the reduction carries what the photometry needs in its header (``PIXSCALE``, ``GAIN`` as
the effective gain of the stack, ``SATURATE`` above the sky) and comes with its exposure map. An image
reduced elsewhere needs only a celestial WCS: the pixel scale is read from the WCS, the gain and the
saturation level from the header keywords ``GAIN`` and ``SATURATE`` unless given (no gain: the
photometry's errors are then the background noise alone; no saturation level: no pixel is treated as
saturated), and the exposure map is optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from astropy.wcs.utils import proj_plane_pixel_scales
from numpy.typing import NDArray

__all__ = ["PhotometryImage", "read_photometry_image"]


@dataclass(frozen=True)
class PhotometryImage:
    """An image with what :func:`astropipe.photometry.pipeline.psf_photometry` needs beside it.

    Attributes
    ----------
    data : numpy.ndarray
        The image (data units per pixel).
    header : astropy.io.fits.Header
        Its primary header.
    wcs : astropy.wcs.WCS
        Its celestial WCS.
    pixel_scale : float
        arcsec/pixel.
    gain : float or None
        e- per data unit (None: unknown).
    saturation : float
        Level above which a pixel is saturated, data units (inf: none).
    exposure : numpy.ndarray or None
        Exposure map (relative weights), if any.
    """

    data: NDArray[np.float64]
    header: fits.Header
    wcs: WCS
    pixel_scale: float
    gain: float | None
    saturation: float
    exposure: NDArray[np.float64] | None


def _pixel_scale(header: fits.Header, wcs: WCS, path: Path) -> float:
    if "PIXSCALE" in header:
        return float(header["PIXSCALE"])
    scales = proj_plane_pixel_scales(wcs) * 3600.0
    if not np.isclose(scales[0], scales[1], rtol=1e-3):
        raise ValueError(
            f"{path}: pixels of {scales[0]:.4f} x {scales[1]:.4f} arcsec; the photometry needs square pixels"
        )
    return float(scales[0])


def read_photometry_image(
    path: str | Path,
    weight_path: str | Path | None = None,
    *,
    gain: float | None = None,
    saturation: float | None = None,
) -> PhotometryImage:
    """Read an image to measure, checking that it can be measured.

    Parameters
    ----------
    path : str or Path
        FITS image (primary HDU, 2-D) with a celestial WCS.
    weight_path : str or Path, optional
        Exposure map of the same shape.
    gain, saturation : float, optional
        e- per data unit and the saturation level (data units); default the header's ``GAIN`` and
        ``SATURATE``.

    Raises
    ------
    ValueError
        Naming the file: not a 2-D image, no celestial WCS, non-square pixels, a weight map of
        another shape.
    """
    path = Path(path)
    with fits.open(path) as hdul:
        header = hdul[0].header.copy()
        if hdul[0].data is None or hdul[0].data.ndim != 2:
            raise ValueError(f"{path}: the primary HDU holds no 2-dimensional image")
        data = hdul[0].data.astype(float)
    wcs = WCS(header).celestial
    if not wcs.has_celestial:
        raise ValueError(f"{path}: no celestial WCS in the header (CTYPE1/2, CRVAL, CRPIX, CD or CDELT)")
    exposure = None
    if weight_path is not None:
        exposure = fits.getdata(weight_path).astype(float)
        if exposure.shape != data.shape:
            raise ValueError(
                f"{weight_path}: exposure map of shape {exposure.shape}; the image {path} has {data.shape}"
            )
    if gain is None and "GAIN" in header:
        gain = float(header["GAIN"])
    if saturation is None:
        saturation = float(header.get("SATURATE", np.inf))
    return PhotometryImage(
        data=data,
        header=header,
        wcs=wcs,
        pixel_scale=_pixel_scale(header, wcs, path),
        gain=gain,
        saturation=saturation,
        exposure=exposure,
    )
