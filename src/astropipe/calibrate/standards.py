"""Standard-star photometry and the fit of the photometric transformation (Dutra et al. 2003, §3.1, eqs. 1-3).

Each standard-star frame is dark-subtracted and flat-fielded with the night's
masters, the star is measured in a circular aperture of radius R = 5.2" with
the sky from a sigma-clipped annulus, and the instrumental magnitudes are
normalised to 1 s and zero airmass (eq. 1),

    m' = m_ap + 2.5 log10(t_exp) - K_lambda X,

then averaged over the repeated measurements of a star at one airmass. The
transformation (eqs. 2-3)

    H - h' = a_H (H - K) + z_H,        K - k' = a_K (H - K) + z_K

is a weighted linear least-squares fit per band; optionally the extinction
coefficient K_lambda is fitted as a third parameter when the airmasses span
enough range.

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

from astropipe.calibrate.least_squares import weighted_least_squares
from astropipe.photometry.aperture_correction import halo_term
from astropipe.reduce.cosmic_rays import DetectorNoise, remove_cosmic_rays_near
from astropipe.reduce.illumination import brightest_star_position

__all__ = [
    "StandardApertures",
    "TransformationFit",
    "fit_transformation",
    "halo_term_of_band",
    "measure_standard_frame",
    "normalise_measurements",
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


def normalise_measurements(measurements: Table, extinction: dict[str, float]) -> Table:
    """Mean normalised magnitude per (standard, band, airmass) - Dutra et al. 2003, eq. 1.

    Parameters
    ----------
    measurements : astropy.table.Table
        One row per frame with ``standard``, ``filter``, ``airmass``, ``dit`` (s),
        ``m_ap`` and ``m_ap_err`` (mag).
    extinction : dict
        Extinction coefficient K_lambda (mag/airmass) per band.

    Returns
    -------
    astropy.table.Table
        ``standard``, ``filter``, ``airmass``, ``n_frames``, ``m_ap`` (mean),
        ``m_ap_err`` (standard error of the mean, or the propagated error if larger),
        ``m_norm`` = m_ap + 2.5 log10(DIT) - K X and ``m_exposure`` = m_ap + 2.5 log10(DIT).
    """
    rows = []
    keys = Table(measurements["standard", "filter", "airmass"])
    for key in np.unique(keys):
        match = (
            (keys["standard"] == key["standard"])
            & (keys["filter"] == key["filter"])
            & (keys["airmass"] == key["airmass"])
        )
        group = measurements[match]
        band = str(key["filter"])
        if band not in extinction:
            raise ValueError(f"no extinction coefficient for filter {band!r} (have {sorted(extinction)})")
        m = np.asarray(group["m_ap"], float)
        n = m.size
        scatter = float(np.std(m, ddof=1) / np.sqrt(n)) if n > 1 else np.inf
        propagated = float(np.sqrt(np.sum(np.asarray(group["m_ap_err"], float) ** 2)) / n)
        mean = float(np.mean(m))
        exposure = mean + 2.5 * np.log10(float(group["dit"][0]))
        rows.append(
            (
                int(key["standard"]),
                band,
                float(key["airmass"]),
                n,
                mean,
                max(scatter, propagated) if n > 1 else propagated,
                exposure,
                exposure - extinction[band] * float(key["airmass"]),
            )
        )
    return Table(
        rows=rows, names=("standard", "filter", "airmass", "n_frames", "m_ap", "m_ap_err", "m_exposure", "m_norm")
    )


@dataclass
class TransformationFit:
    """Fitted transformation of one band (eqs. 2-3) with its errors.

    Attributes are in mag (``colour_term`` dimensionless, ``extinction`` in mag/airmass).
    ``covariance`` is the 2x2 (or 3x3 with the extinction) covariance of
    (colour_term, zero_point[, extinction]); ``rms`` the unweighted rms of the residuals;
    ``colour_term_data_only`` the colour term fitted without the prior.
    """

    band: str
    colour_term: float
    colour_term_err: float
    zero_point: float
    zero_point_err: float
    extinction: float
    extinction_err: float
    extinction_fitted: bool
    rms: float
    chi2_reduced: float
    n_points: int
    n_standards: int
    covariance: np.ndarray
    colour_term_prior: tuple[float, float] | None
    colour_term_data_only: float
    colour_term_data_only_err: float

    def as_dict(self) -> dict:
        """JSON-ready summary (units in the key names)."""
        return {
            "colour_term": self.colour_term,
            "colour_term_err": self.colour_term_err,
            "zero_point_mag": self.zero_point,
            "zero_point_err_mag": self.zero_point_err,
            "extinction_mag_per_airmass": self.extinction,
            "extinction_err_mag_per_airmass": self.extinction_err,
            "extinction_fitted": self.extinction_fitted,
            "rms_mag": self.rms,
            "chi2_reduced": self.chi2_reduced,
            "n_points": self.n_points,
            "n_standards": self.n_standards,
            "covariance": self.covariance.tolist(),
            "colour_term_prior": None
            if self.colour_term_prior is None
            else {"mean": self.colour_term_prior[0], "sigma": self.colour_term_prior[1]},
            "colour_term_data_only": self.colour_term_data_only,
            "colour_term_data_only_err": self.colour_term_data_only_err,
        }


def fit_transformation(
    normalised: Table,
    catalogue: Table,
    band: str,
    extinction: float,
    fit_extinction: bool = False,
    min_standards: int = 2,
    min_points: int = 3,
    min_airmass_span: float = 0.3,
    colour_term_prior: tuple[float, float] | None = None,
) -> TransformationFit:
    """Weighted least-squares fit of m_std - m' = a (H - K) + z [- dK X] for one band (eqs. 2-3).

    Parameters
    ----------
    normalised : astropy.table.Table
        Output of :func:`normalise_measurements`.
    catalogue : astropy.table.Table
        Standard magnitudes (``number``, ``H``, ``K``, ``e_H``, ``e_K``), e.g. Persson et al. (1998).
    band : {"H", "Ks"}
        Band fitted; Ks is calibrated onto the catalogue's K (Dutra et al. 2003, §3.1).
    extinction : float
        Adopted extinction coefficient K_lambda (mag/airmass).
    fit_extinction : bool
        Also fit K_lambda; refused unless the airmasses span ``min_airmass_span``.
    min_standards, min_points : int
        Fewest distinct standards and (standard, airmass) points accepted.
    min_airmass_span : float
        Smallest airmass range over which the extinction may be fitted.
    colour_term_prior : (mean, sigma) or None
        Gaussian prior on the colour term (an extra pseudo-observation of the
        weighted fit). Standards of nearly one colour (9150, 9157, 9170 span
        0.04 mag in H - K) leave the colour term undetermined (error ~0.2), and
        an unconstrained term extrapolated to H - K ~ 1 biases the calibrated
        colours by tens of per cent; the instrument's known small colour terms
        are the prior. The data-only fit is reported beside the posterior.

    Raises
    ------
    ValueError
        Too few standards or points, a standard missing from the catalogue, or an
        airmass range too small to fit the extinction.

    Examples
    --------
    Three standards measured through a known transformation (colour term 0.05, zero point 22.92):

    >>> from astropy.table import Table
    >>> catalogue = Table({"number": [9150, 9157, 9170], "H": [11.0, 12.0, 11.5], "K": [10.9, 11.6, 11.2],
    ...                    "e_H": [0.01] * 3, "e_K": [0.01] * 3})
    >>> m_norm = catalogue["H"] - (0.05 * (catalogue["H"] - catalogue["K"]) + 22.92)
    >>> normalised = Table({"standard": [9150, 9157, 9170], "filter": ["H"] * 3, "airmass": [1.1, 1.2, 1.3],
    ...                     "m_norm": m_norm, "m_exposure": m_norm, "m_ap_err": [0.01] * 3})
    >>> fit = fit_transformation(normalised, catalogue, "H", extinction=0.06)
    >>> round(fit.colour_term, 3), round(fit.zero_point, 3)
    (0.05, 22.92)
    """
    rows = normalised[normalised["filter"] == band]
    standard_column = "H" if band == "H" else "K"
    by_number = {int(r["number"]): r for r in catalogue}
    missing = sorted({int(s) for s in rows["standard"]} - set(by_number))
    if missing:
        raise ValueError(f"standards {missing} measured in {band} are not in the standard-star catalogue")
    n_standards = len({int(s) for s in rows["standard"]})
    n_parameters = 3 if fit_extinction else 2
    if n_standards < min_standards or len(rows) < max(min_points, n_parameters + 1):
        raise ValueError(
            f"{band}: {n_standards} standards and {len(rows)} (standard, airmass) points measured; the fit of "
            f"eq. {'2' if band == 'H' else '3'} needs at least {min_standards} standards and "
            f"{max(min_points, n_parameters + 1)} points"
        )
    airmass = np.asarray(rows["airmass"], float)
    if fit_extinction and np.ptp(airmass) < min_airmass_span:
        raise ValueError(
            f"{band}: airmasses span {np.ptp(airmass):.2f} < {min_airmass_span}; cannot fit the extinction coefficient"
        )
    h = np.array([by_number[int(s)]["H"] for s in rows["standard"]], float)
    k = np.array([by_number[int(s)]["K"] for s in rows["standard"]], float)
    e_std = np.array([by_number[int(s)][f"e_{standard_column}"] for s in rows["standard"]], float)
    colour = h - k
    standard = h if band == "H" else k
    # with the extinction free: m_std - m_exposure = a colour + z - K X
    observed = np.asarray(rows["m_exposure"] if fit_extinction else rows["m_norm"], float)
    y = standard - observed
    sigma = np.sqrt(np.asarray(rows["m_ap_err"], float) ** 2 + np.nan_to_num(e_std) ** 2)
    design = np.column_stack([colour, np.ones_like(colour)] + ([-airmass] if fit_extinction else []))
    data_only = weighted_least_squares(design, y, sigma, f"{band} (standards' colours/airmasses)")
    if colour_term_prior is not None:
        prior_row = np.zeros((1, n_parameters))
        prior_row[0, 0] = 1.0
        design = np.vstack([design, prior_row])
        y = np.append(y, colour_term_prior[0])
        sigma = np.append(sigma, colour_term_prior[1])
    parameters, covariance, residual = weighted_least_squares(
        design, y, sigma, f"{band} (standards' colours/airmasses)"
    )
    residual = residual[: len(rows)]
    weights = 1.0 / sigma[: len(rows)] ** 2
    dof = len(rows) - n_parameters
    chi2_reduced = float(np.sum(weights * residual**2) / dof)
    # scale the formal covariance when the residuals exceed the quoted errors (unmodelled scatter)
    covariance = covariance * max(chi2_reduced, 1.0)
    errors = np.sqrt(np.diag(covariance))
    data_only_err = np.sqrt(np.diag(data_only[1]) * max(chi2_reduced, 1.0))
    return TransformationFit(
        band=band,
        colour_term=float(parameters[0]),
        colour_term_err=float(errors[0]),
        zero_point=float(parameters[1]),
        zero_point_err=float(errors[1]),
        extinction=float(parameters[2]) if fit_extinction else float(extinction),
        extinction_err=float(errors[2]) if fit_extinction else 0.0,
        extinction_fitted=fit_extinction,
        rms=float(np.sqrt(np.mean(residual**2))),
        chi2_reduced=chi2_reduced,
        n_points=len(rows),
        n_standards=n_standards,
        covariance=covariance,
        colour_term_prior=colour_term_prior,
        colour_term_data_only=float(data_only[0][0]),
        colour_term_data_only_err=float(data_only_err[0]),
    )
