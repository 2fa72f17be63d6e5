"""The photometry's catalogue: one row per fitted star, with its flags and sky position."""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from astropy.wcs import WCS
from numpy.typing import NDArray
from scipy.ndimage import binary_dilation

from astropipe.photometry.star_list import StarList
from astropipe.photometry.star_masks import nearest_pixel

__all__ = ["FLAG_EDGE", "FLAG_POOR_FIT", "FLAG_SATURATED", "photometry_catalog"]

#: flag bits of the catalogue's ``flags`` column
FLAG_SATURATED = 1
FLAG_EDGE = 2
FLAG_POOR_FIT = 4


def photometry_catalog(
    stars: StarList,
    image: NDArray[np.float64],
    saturation: float,
    fit_radius: float,
    max_chi: float,
    wcs: WCS | None,
) -> Table:
    """The catalogue of the fitted stars, with flags (saturated, near an edge, poor fit) and sky positions.

    A star is saturated when the image's pixel under it exceeds ``saturation`` (image units), near an edge
    within ``fit_radius`` pixels of the border or of an uncovered pixel, and poorly fitted when its chi is not
    below ``max_chi``; ``ra`` and ``dec`` are added when ``wcs`` is given.
    """
    x, y, flux, flux_err, chi = stars.x, stars.y, stars.flux, stars.flux_err, stars.chi
    ny, nx = image.shape
    xi, yi = nearest_pixel(x, nx), nearest_pixel(y, ny)
    flags = np.zeros(x.size, dtype=np.int16)
    peak = np.nan_to_num(image[yi, xi], nan=0.0)
    flags[peak > saturation] |= FLAG_SATURATED
    edge_mask = binary_dilation(~np.isfinite(image), iterations=int(np.ceil(fit_radius)))
    flags[
        edge_mask[yi, xi] | (x < fit_radius) | (y < fit_radius) | (x > nx - 1 - fit_radius) | (y > ny - 1 - fit_radius)
    ] |= FLAG_EDGE
    flags[~(chi < max_chi)] |= FLAG_POOR_FIT
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = -2.5 * np.log10(flux)
        mag_err = 2.5 / np.log(10) * flux_err / flux
    table = Table()
    table["id"] = np.arange(1, x.size + 1)
    table["x"], table["y"] = x, y
    if wcs is not None:
        sky = wcs.pixel_to_world(x, y)
        table["ra"], table["dec"] = sky.icrs.ra.deg, sky.icrs.dec.deg
        table["ra"].unit = table["dec"].unit = "deg"
    table["flux"], table["flux_err"] = flux, flux_err
    table["mag_inst"], table["mag_inst_err"] = mag, mag_err
    table["mag_inst"].unit = table["mag_inst_err"].unit = "mag"
    table["chi"], table["sharpness"], table["roundness"] = chi, stars.sharp, stars.round_
    table["pass"] = stars.found_in
    table["flags"] = flags
    table["x"].description = "0-based pixel column of the image"
    table["flux"].description = "PSF flux in image units (e.g. adu/s) within the ePSF footprint"
    table["mag_inst"].description = "-2.5 log10(flux); add the aperture correction for the standards' aperture"
    table["flags"].description = "1 saturated, 2 near an edge or uncovered pixels, 4 chi above max_chi"
    return table
