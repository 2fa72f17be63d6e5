"""Standard-star photometry (Dutra et al. 2003, §3.1).

Each standard-star frame is dark-subtracted and flat-fielded with the night's
masters, and the star is measured in a circular aperture of radius R = 5.2" with
the sky from a sigma-clipped annulus; the photometric transformation fitted to
these measurements is in :mod:`astropipe.calibrate.transformation`.

Each frame's curve of growth, clean out to the aperture, also gives the halo
term of the fields' aperture corrections (:func:`halo_term_of_band`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from astropy.table import Table
from astropy.wcs import WCS
from photutils.aperture import CircularAnnulus, CircularAperture, aperture_photometry
from photutils.centroids import centroid_com
from scipy.ndimage import median_filter

from astropipe.photometry.aperture_correction import halo_term
from astropipe.reduce.cosmic_rays import DetectorNoise, remove_cosmic_rays_near
from astropipe.reduce.illumination import brightest_star_position

__all__ = [
    "StandardApertures",
    "halo_term_of_band",
    "measure_standard_frame",
    "raw_peak",
]


@dataclass(frozen=True)
class StandardApertures:
    """Aperture geometry of the standard-star photometry, in arcsec.

    Attributes
    ----------
    radius_arcsec : float
        Photometric aperture (paper: 5.2").
    sky_inner_arcsec, sky_outer_arcsec : float
        Sky annulus, sigma-clipped (3 sigma) mean per pixel.
    search_arcsec : float
        Half-size of the box around the catalogue position (placed with the header WCS) in which
        the brightest star is the standard: the headers' pointing errs by several arcsec.
    """

    radius_arcsec: float = 5.2
    sky_inner_arcsec: float = 7.0
    sky_outer_arcsec: float = 10.0
    search_arcsec: float = 20.0

    def __post_init__(self) -> None:
        if not 0 < self.radius_arcsec <= self.sky_inner_arcsec < self.sky_outer_arcsec:
            raise ValueError(
                f"standard-star apertures: radius {self.radius_arcsec}, sky annulus {self.sky_inner_arcsec}-"
                f"{self.sky_outer_arcsec} arcsec; expected 0 < radius <= inner < outer"
            )
        if not self.search_arcsec > 0:
            raise ValueError(f"standard-star search box half-size {self.search_arcsec} arcsec: expected > 0")


def measure_standard_frame(
    data: np.ndarray,
    header: fits.Header,
    position: SkyCoord,
    apertures: StandardApertures,
    gain: float,
    source: str = "frame",
    *,
    cosmic_rays: DetectorNoise | None = None,
) -> dict[str, float]:
    """Aperture photometry of one calibrated standard-star frame.

    Parameters
    ----------
    data : numpy.ndarray
        Dark-subtracted, flat-fielded frame (ADU per DIT; NaN on bad pixels).
    header : astropy.io.fits.Header
        Raw header with a celestial WCS and the pixel scale (``ESO INS PIXSCALE`` or ``PIXSCALE``).
    position : astropy.coordinates.SkyCoord
        Catalogue position of the standard.
    apertures : StandardApertures
    gain : float
        Detector gain, e-/ADU (for the star's Poisson noise).
    source : str
        Name of the frame for error messages.
    cosmic_rays : DetectorNoise, optional
        Given, cosmic-ray hits in the star's aperture and sky annulus, where they would bias its flux, are
        replaced before it is measured (L.A.Cosmic,
        :func:`astropipe.reduce.cosmic_rays.remove_cosmic_rays_near`). The star is found first as the
        maximum of the search box after a 3 x 3 median and a Gaussian of
        sigma 2 px, so a hit cannot be taken for it.

    Returns
    -------
    dict
        ``x``, ``y`` (0-based px), ``counts`` (ADU per DIT in the aperture),
        ``counts_err``, ``sky`` (ADU/px), ``m_ap`` = -2.5 log10(counts) with ``m_ap_err``,
        ``cosmic_ray_pixels`` (pixels replaced; 0 without ``cosmic_rays``), ``aperture_px`` (the aperture's
        radius, pixels), and the star's ``fwhm_px`` and
        ``halo_term_mag`` (:func:`astropipe.photometry.aperture_correction.halo_term`; NaN where its curve of
        growth cannot be fitted).
    """
    scale = float(header.get("HIERARCH ESO INS PIXSCALE", header.get("PIXSCALE", np.nan)))
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"{source}: no pixel scale (ESO INS PIXSCALE or PIXSCALE) in the header")
    x0, y0 = (float(v) for v in WCS(header).celestial.world_to_pixel(position))
    half = int(np.ceil(apertures.search_arcsec / scale))
    ny, nx = data.shape
    rout = apertures.sky_outer_arcsec / scale
    if not (rout <= x0 < nx - rout and rout <= y0 < ny - rout):
        raise ValueError(
            f"{source}: the standard at pixel ({x0:.0f}, {y0:.0f}) is too close to the edge for the sky annulus"
        )
    ndit = int(header.get("HIERARCH ESO DET NDIT", header.get("NDIT", 1)))
    xa, ya = max(int(round(x0)) - half, 0), max(int(round(y0)) - half, 0)
    search = (slice(ya, ya + 2 * half + 1), slice(xa, xa + 2 * half + 1))
    xs, ys = _star_in_search_box(data[search])
    small = 3
    hits = 0
    if cosmic_rays is not None:  # the pixels the measurement reads: the star's aperture and sky annulus
        clean_half = int(np.ceil(rout)) + 2 * small + 4
        data, replaced = remove_cosmic_rays_near(data, cosmic_rays, ndit, (xa + xs, ya + ys), clean_half)
        hits = int(replaced.sum())
    box = np.nan_to_num(data[search])
    box = box - np.median(box)
    # its brightest pixel, within a few pixels of the smoothed maximum
    y_lo, x_lo = max(ys - small, 0), max(xs - small, 0)
    near = box[y_lo : ys + small + 1, x_lo : xs + small + 1]
    peak_y, peak_x = (int(v) for v in np.unravel_index(np.argmax(near), near.shape))
    peak_y, peak_x = peak_y + y_lo, peak_x + x_lo
    cut = np.clip(box[peak_y - small : peak_y + small + 1, peak_x - small : peak_x + small + 1], 0.0, None)
    cx, cy = centroid_com(cut)
    x, y = xa + peak_x - small + float(cx), ya + peak_y - small + float(cy)
    aperture = CircularAperture((x, y), r=apertures.radius_arcsec / scale)
    annulus = CircularAnnulus((x, y), r_in=apertures.sky_inner_arcsec / scale, r_out=rout)
    mask = ~np.isfinite(data)
    annulus_mask = annulus.to_mask(method="center")
    sky_values = annulus_mask.get_values(np.where(mask, np.nan, data))
    sky_values = sky_values[np.isfinite(sky_values)]
    _, sky, sky_sigma = sigma_clipped_stats(sky_values, sigma=3.0)
    phot = aperture_photometry(np.nan_to_num(data - sky), aperture, mask=mask)
    counts = float(phot["aperture_sum"][0])
    n_pix = float(aperture.area_overlap(data, mask=mask))
    # Poisson noise of the star (electrons over NDIT integrations) plus the sky noise in the aperture and in its mean
    variance = max(counts, 0.0) / (gain * ndit) + n_pix * sky_sigma**2 * (1.0 + n_pix / sky_values.size)
    if not counts > 0:
        raise ValueError(
            f"{source}: non-positive aperture flux {counts:.1f} ADU for the standard at ({x:.1f}, {y:.1f})"
        )
    counts_err = float(np.sqrt(variance))
    try:
        halo, fwhm = halo_term(np.nan_to_num(data - sky), x, y, aperture.r, mask=mask)
    except (ValueError, RuntimeError):  # a curve of growth the Moffat curve cannot fit: left out of the median
        halo, fwhm = float("nan"), float("nan")
    return {
        "x": x,
        "y": y,
        "counts": counts,
        "counts_err": counts_err,
        "sky": float(sky),
        "m_ap": -2.5 * np.log10(counts),
        "m_ap_err": 2.5 / np.log(10) * counts_err / counts,
        "cosmic_ray_pixels": hits,
        "aperture_px": float(aperture.r),
        "fwhm_px": fwhm,
        "halo_term_mag": halo,
    }


def _star_in_search_box(box: np.ndarray) -> tuple[int, int]:
    """(x, y) pixel of the standard in its search box: the maximum of the box after a 3 x 3 median, which
    removes a cosmic-ray hit or its thin track whatever its charge, and a Gaussian of sigma 2 px
    (:func:`astropipe.reduce.illumination.brightest_star_position`); NaN read as the box's median."""
    filled = np.nan_to_num(box, nan=float(np.nanmedian(box)))
    return brightest_star_position(median_filter(filled, size=3))


MIN_HALO_FRAMES = 3  # standard frames with a fitted curve of growth needed for a band's halo term


def raw_peak(raw: np.ndarray, x: float, y: float, radius: float) -> float:
    """Highest raw value (ADU per integration) within ``radius`` pixels of (x, y): at or above the detector's
    saturation level the star's core is clipped and neither its aperture flux nor its curve of growth is valid."""
    ny, nx = raw.shape
    x_lo, x_hi = max(0, int(np.floor(x - radius))), min(nx, int(np.ceil(x + radius)) + 1)
    y_lo, y_hi = max(0, int(np.floor(y - radius))), min(ny, int(np.ceil(y + radius)) + 1)
    yy, xx = np.mgrid[y_lo:y_hi, x_lo:x_hi]
    inside = (xx - x) ** 2 + (yy - y) ** 2 <= radius**2
    return float(np.nanmax(np.where(inside, raw[y_lo:y_hi, x_lo:x_hi], -np.inf)))


def halo_term_of_band(measurements: Table, band: str) -> dict[str, float | int]:
    """The band's halo term: median over its standard frames of ``halo_term_mag`` (:func:`measure_standard_frame`).

    Returns ``halo_term_mag``, its error ``halo_term_err_mag`` (1.2533 std / sqrt(n), the median's) and
    ``halo_term_frames`` (n); NaN term and error with fewer than ``MIN_HALO_FRAMES`` frames.
    """
    terms = np.asarray(measurements["halo_term_mag"][measurements["filter"] == band], float)
    terms = terms[np.isfinite(terms)]
    if terms.size < MIN_HALO_FRAMES:
        return {"halo_term_mag": float("nan"), "halo_term_err_mag": float("nan"), "halo_term_frames": int(terms.size)}
    return {
        "halo_term_mag": float(np.median(terms)),
        "halo_term_err_mag": float(1.2533 * np.std(terms, ddof=1) / np.sqrt(terms.size)),
        "halo_term_frames": int(terms.size),
    }
