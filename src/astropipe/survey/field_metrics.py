"""Everything measured on one candidate field's Ks stack (Dutra et al. 2003, §2): the indicators the survey classifies.

From the field's PSF catalogue, on the part of the stack with at least half the full exposure:

1. approximate K magnitudes (instrumental + the night's zero point, extinction and aperture
   correction; one band, so no colour term) and the counting depth, the magnitude above which
   ``count_percentile`` per cent of the detections lie (the luminosity function's own peak is the
   bulge red clump in these fields, not the completeness turnover);
2. star counts: the radial profile and its King fit, the overdensity inside ``inner_radius_arcsec``
   against the background ring (all counted stars, and the faint ones alone), the excess of bright
   stars, and the ratio and deficit of counts in the "hole" ring (a dark cloud empties it);
3. diffuse light: nebulosity (masked-star surface brightness inside ``nebula_radius_arcsec`` against
   the background ring) and the concentration of light at the centre against random positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.survey.density import (
    KingFit,
    Overdensity,
    RadialProfile,
    fit_king,
    overdensity,
    radial_profile,
    ring_areas,
)
from astropipe.survey.indicators import light_concentration, nebulosity, star_mask

__all__ = ["FieldMetrics", "approximate_k", "measure_field"]

SATURATED_FLAG = 2  # catalogue flag bit of a star with saturated pixels


def approximate_k(catalog: Table, calibration: dict) -> NDArray[np.float64]:
    """K of every catalogue star from the night's Ks calibration, without a colour term (mag).

    ``calibration`` holds ``zero_point_mag``, ``extinction_mag_per_airmass`` and the standards' halo term of
    the aperture correction ``halo_term_mag`` (0 where absent or not measured); the catalogue's ``meta`` its
    ``airmass`` (default 1) and ``aperture_correction_mag`` (default 0).
    """
    halo = float(calibration.get("halo_term_mag", 0.0))
    return (
        np.asarray(catalog["mag_inst"])
        + calibration["zero_point_mag"]
        - calibration["extinction_mag_per_airmass"] * float(catalog.meta.get("airmass", 1.0))
        + float(catalog.meta.get("aperture_correction_mag", 0.0) or 0.0)
        + (halo if np.isfinite(halo) else 0.0)
    )


@dataclass(frozen=True)
class _Geometry:
    """The usable stack around the candidate centre (pixels; radii in arcsec)."""

    usable: NDArray[np.bool_]
    centre: tuple[float, float]
    scale: float

    def area(self, inner: float, outer: float) -> float:
        """Usable area (arcmin^2) between two radii."""
        return float(ring_areas(self.usable, self.centre, self.scale, np.array([inner, outer]))[0])

    def on_usable(self, x: NDArray, y: NDArray) -> NDArray[np.bool_]:
        xi = np.clip(np.round(x).astype(int), 0, self.usable.shape[1] - 1)
        yi = np.clip(np.round(y).astype(int), 0, self.usable.shape[0] - 1)
        return self.usable[yi, xi]


@dataclass(frozen=True)
class FieldMetrics:
    """The indicators of one field (see the module docstring), with the profile and King fit for its figure."""

    magnitude_limit: float
    n_stars: int
    background_density: float
    background_stars: int
    overdensity: Overdensity
    faint_overdensity: Overdensity
    bright_excess: float
    count_ratio_ring: float
    count_deficit_sigma: float
    central_flux: float
    light_concentration_p: float
    nebulosity_snr: float
    nebulosity_level: float
    profile: RadialProfile
    king: KingFit

    def as_dict(self) -> dict:
        """The keys of ``metrics.json`` (densities in stars/arcmin^2, fluxes in ADU/s, radii in arcsec)."""
        profile = self.profile
        return {
            "magnitude_limit": self.magnitude_limit,
            "n_stars": self.n_stars,
            "background_density_arcmin2": self.background_density,
            "background_stars": self.background_stars,
            "overdensity_significance": self.overdensity.significance,
            "overdensity": self.overdensity.as_dict(),
            "faint_overdensity_significance": self.faint_overdensity.significance,
            "faint_overdensity": self.faint_overdensity.as_dict(),
            "bright_excess": self.bright_excess,
            "count_ratio_ring": self.count_ratio_ring,
            "count_deficit_sigma": self.count_deficit_sigma,
            "central_flux_adu_s": self.central_flux,
            "light_concentration_p": self.light_concentration_p,
            "nebulosity_snr": self.nebulosity_snr,
            "nebulosity_adu_s": self.nebulosity_level,
            "king": self.king.as_dict(),
            "profile": {
                "inner_arcsec": profile.inner.tolist(),
                "outer_arcsec": profile.outer.tolist(),
                "density_arcmin2": profile.density.tolist(),
                "density_err_arcmin2": profile.density_err.tolist(),
            },
        }


def _star_counts(
    radius: NDArray, stars: NDArray, magnitude: NDArray, bright: NDArray, geometry: _Geometry, settings: dict
) -> dict:
    """Profile, King fit, overdensities, bright excess and the hole ring of the counted stars (step 2)."""
    edges = np.asarray(settings["ring_edges_arcsec"], float)
    profile = radial_profile(radius[stars], ring_areas(geometry.usable, geometry.centre, geometry.scale, edges), edges)
    ring_lo, ring_hi = settings["background_ring_arcsec"]
    background_area = geometry.area(ring_lo, ring_hi)

    def background(selection: NDArray) -> tuple[float, int]:
        n = int(np.sum(selection & (radius >= ring_lo) & (radius < ring_hi)))
        return n / background_area, n

    inner_radius = settings["inner_radius_arcsec"]
    inner_area = geometry.area(0.0, inner_radius)
    density, n_background = background(stars)
    faint = stars & (magnitude >= settings["bright_mag"])
    density_faint, n_faint = background(faint)
    density_bright, _ = background(bright)
    bright_radius = settings["bright_radius_arcsec"]
    bright_excess = float(
        np.sum(bright & (radius < bright_radius)) - density_bright * geometry.area(0.0, bright_radius)
    )
    hole_lo, hole_hi = settings["hole_ring_arcsec"]
    hole_area = geometry.area(hole_lo, hole_hi)
    in_hole = np.sum(stars & (radius >= hole_lo) & (radius < hole_hi))
    ring_ratio = float(in_hole / hole_area / density) if density > 0 else np.nan
    expected = density * hole_area
    return {
        "profile": profile,
        "king": fit_king(profile),
        "background_density": density,
        "background_stars": n_background,
        "overdensity": overdensity(radius[stars], inner_area, inner_radius, density, n_background),
        "faint_overdensity": overdensity(radius[faint], inner_area, inner_radius, density_faint, n_faint),
        "bright_excess": bright_excess,
        "count_ratio_ring": ring_ratio,
        "count_deficit_sigma": float((expected - in_hole) / np.sqrt(expected + expected**2 / max(n_background, 1))),
    }


def _diffuse_light(
    image: NDArray,
    x: NDArray,
    y: NDArray,
    good: NDArray,
    bright: NDArray,
    fwhm: float,
    geometry: _Geometry,
    settings: dict,
    rng: np.random.Generator,
) -> dict:
    """Nebulosity and central light concentration on the image with the stars masked (step 3)."""
    masked = star_mask(image.shape, x[good], y[good], 3.0 * fwhm) | star_mask(
        image.shape, x[bright], y[bright], 8.0 * fwhm
    )
    ny, nx = image.shape
    cx, cy = geometry.centre
    pixel_radius = np.hypot(*np.meshgrid(np.arange(nx) - cx, np.arange(ny) - cy)) * geometry.scale
    snr, level = nebulosity(
        image,
        geometry.usable,
        masked,
        pixel_radius,
        settings["nebula_radius_arcsec"],
        tuple(settings["background_ring_arcsec"]),
    )
    central_flux, p = light_concentration(
        image, geometry.usable, geometry.centre, settings["bright_radius_arcsec"] / geometry.scale, rng
    )
    return {"nebulosity_snr": snr, "nebulosity_level": level, "central_flux": central_flux, "light_concentration_p": p}


def measure_field(
    image: NDArray,
    weight: NDArray,
    catalog: Table,
    centre_px: tuple[float, float],
    pixel_scale: float,
    calibration: dict,
    settings: dict,
    rng: np.random.Generator,
) -> FieldMetrics:
    """Measure the survey's indicators on one candidate field (Dutra et al. 2003, §2).

    Parameters
    ----------
    image, weight : numpy.ndarray
        The field's Ks stack (ADU/s) and its weight (exposure) map.
    catalog : astropy.table.Table
        Its PSF catalogue (``x``, ``y``, ``mag_inst``, ``flags``; ``meta`` ``fwhm_px``, ``airmass``,
        ``aperture_correction_mag``).
    centre_px : (float, float)
        The candidate's centre (x, y) in pixels.
    pixel_scale : float
        arcsec per pixel.
    calibration : dict
        The night's Ks calibration (``zero_point_mag``, ``extinction_mag_per_airmass``).
    settings : dict
        ``imaging.survey`` configuration (radii in arcsec, ``count_percentile``, ``bright_mag``).
    rng : numpy.random.Generator
        Random positions of the light-concentration test.

    Returns
    -------
    FieldMetrics
    """
    geometry = _Geometry(weight >= 0.5 * np.nanmax(weight), centre_px, pixel_scale)
    magnitude = approximate_k(catalog, calibration)
    good = np.isfinite(magnitude) & ((np.asarray(catalog["flags"]) & SATURATED_FLAG) == 0)
    limit = float(np.percentile(magnitude[good], settings["count_percentile"]))
    x, y = np.asarray(catalog["x"]), np.asarray(catalog["y"])
    radius = np.hypot(x - centre_px[0], y - centre_px[1]) * pixel_scale
    on_usable = geometry.on_usable(x, y)
    stars = good & (magnitude < limit) & on_usable
    bright = good & on_usable & (magnitude < settings["bright_mag"])
    counts = _star_counts(radius, stars, magnitude, bright, geometry, settings)
    light = _diffuse_light(image, x, y, good, bright, float(catalog.meta.get("fwhm_px", 3.0)), geometry, settings, rng)
    return FieldMetrics(magnitude_limit=limit, n_stars=int(stars.sum()), **counts, **light)
