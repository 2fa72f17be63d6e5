"""Object and field regions of a stack and their usable areas (Dutra et al. 2003, §3.3: r < 43.5", r > 58").

A pixel is usable when both bands have at least ``min_coverage`` of their
full exposure there (dither edges, masked pixels and the other band's
footprint excluded), so that star counts in a region are divided by the area
over which stars could actually have been measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.wcs import WCS
from numpy.typing import NDArray

__all__ = ["Regions", "define_regions", "usable_mask"]


def usable_mask(
    weight_k: NDArray[np.float64], weight_h: NDArray[np.float64], wcs_k: WCS, wcs_h: WCS, min_coverage: float
) -> NDArray[np.bool_]:
    """Pixels of the K stack covered in both bands by at least ``min_coverage`` x the maximum exposure.

    Parameters
    ----------
    weight_k, weight_h : numpy.ndarray
        Exposure maps (s per pixel) of the two stacks.
    wcs_k, wcs_h : astropy.wcs.WCS
        Their celestial WCS; the H coverage is looked up at each K pixel's sky position.
    min_coverage : float
        Fraction of the maximum exposure.
    """
    good_k = weight_k >= min_coverage * np.nanmax(weight_k)
    ny, nx = weight_k.shape
    y, x = np.mgrid[0:ny, 0:nx]
    xh, yh = wcs_h.world_to_pixel(wcs_k.pixel_to_world(x.ravel(), y.ravel()))
    xh, yh = np.round(xh).astype(int), np.round(yh).astype(int)
    inside = (xh >= 0) & (xh < weight_h.shape[1]) & (yh >= 0) & (yh < weight_h.shape[0])
    good_h = np.zeros(x.size, dtype=bool)
    good_h[inside] = weight_h[yh[inside], xh[inside]] >= min_coverage * np.nanmax(weight_h)
    return good_k & good_h.reshape(good_k.shape)


@dataclass
class Regions:
    """Object disc and field annulus on the K stack.

    Attributes
    ----------
    centre_x, centre_y : float
        Object centre, 0-based pixels of the K stack.
    pixel_scale : float
        arcsec per pixel.
    object_radius, field_inner_radius : float
        arcsec.
    usable : numpy.ndarray of bool
        Usable pixels (:func:`usable_mask`).
    """

    centre_x: float
    centre_y: float
    pixel_scale: float
    object_radius: float
    field_inner_radius: float
    usable: NDArray[np.bool_]

    def radius_arcsec(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        """Distance from the object centre, arcsec."""
        return np.hypot(np.asarray(x) - self.centre_x, np.asarray(y) - self.centre_y) * self.pixel_scale

    def _on_usable(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        xi, yi = np.round(np.asarray(x)).astype(int), np.round(np.asarray(y)).astype(int)
        ny, nx = self.usable.shape
        inside = (xi >= 0) & (xi < nx) & (yi >= 0) & (yi < ny)
        out = np.zeros(xi.shape, dtype=bool)
        out[inside] = self.usable[yi[inside], xi[inside]]
        return out

    def in_object(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Stars inside the object radius on usable pixels."""
        return self._on_usable(x, y) & (self.radius_arcsec(x, y) < self.object_radius)

    def in_field(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Stars beyond the field's inner radius on usable pixels."""
        return self._on_usable(x, y) & (self.radius_arcsec(x, y) > self.field_inner_radius)

    def area_arcmin2(self, inner: float, outer: float) -> float:
        """Usable area (arcmin^2) between two radii (arcsec), counted pixel by pixel."""
        ny, nx = self.usable.shape
        y, x = np.mgrid[0:ny, 0:nx]
        r = self.radius_arcsec(x, y)
        return float(np.sum(self.usable & (r >= inner) & (r < outer)) * (self.pixel_scale / 60.0) ** 2)

    def areas_arcmin2(self) -> tuple[float, float]:
        """(object, field) usable areas in arcmin^2."""
        return self.area_arcmin2(0.0, self.object_radius), self.area_arcmin2(self.field_inner_radius, np.inf)


def define_regions(
    usable: NDArray[np.bool_], wcs_k: WCS, centre, pixel_scale: float, object_radius: float, field_inner_radius: float
) -> Regions:
    """Regions around ``centre`` (a SkyCoord) on the K stack; errors if the object disc is not on the image."""
    if not field_inner_radius >= object_radius:
        raise ValueError(
            f"cmd.field_inner_radius_arcsec = {field_inner_radius} must be >= object_radius_arcsec = {object_radius}"
        )
    x, y = (float(v) for v in wcs_k.world_to_pixel(centre))
    regions = Regions(x, y, pixel_scale, object_radius, field_inner_radius, usable)
    object_area, field_area = regions.areas_arcmin2()
    full = np.pi * (object_radius / 60.0) ** 2
    if object_area < 0.5 * full:
        raise ValueError(
            f"only {object_area:.2f} of the {full:.2f} arcmin^2 object disc around pixel ({x:.0f}, {y:.0f}) is usable"
        )
    if field_area <= 0:
        raise ValueError(f"no usable field pixels beyond {field_inner_radius} arcsec from the object centre")
    return regions
