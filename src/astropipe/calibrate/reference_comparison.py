"""Comparison of calibrated magnitudes with a shallower reference survey such as 2MASS (Dutra et al. 2003, §3.2, Fig. 6).

For the stars in common (brighter than the reference's limits), the
difference m_ref - m is fitted as a straight line in m around a pivot,
m_ref - m = c0 + c1 (m - pivot), with iterative 3-sigma rejection of
deviant points (blends at the reference's coarser resolution, variables).
``c0`` is the zero-point difference between the two systems at the pivot
and ``c1`` how far the relation departs from a slope of one.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.stats import sigma_clip
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.calibrate.least_squares import weighted_least_squares
from astropipe.calibrate.saturated import saturated_detections

__all__ = [
    "REFERENCE_COLUMNS",
    "ReferenceFit",
    "blended_magnitudes",
    "compare_with_reference",
    "fit_reference_relation",
]

REFERENCE_COLUMNS = ("ra", "dec", "H", "e_H", "Ks", "e_Ks")


def blended_magnitudes(
    reference: SkyCoord, ours: SkyCoord, mag: NDArray[np.float64], radius_arcsec: float, match_radius_arcsec: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Our magnitudes as the reference survey would see them: fluxes summed within its resolution.

    A survey with ~2.5" resolution (2MASS) reports a close pair as one star;
    comparing its magnitude with one component of our deeper, sharper
    catalogue would bias the offset by the light of the companions.

    Parameters
    ----------
    reference, ours : astropy.coordinates.SkyCoord
        Positions of the reference stars and of our stars.
    mag : numpy.ndarray
        Our calibrated magnitudes (NaN ignored).
    radius_arcsec : float
        Resolution of the reference survey: our stars within it are summed.
    match_radius_arcsec : float
        A reference star counts as matched when one of our stars lies within this.

    Returns
    -------
    blended : numpy.ndarray
        -2.5 log10(sum of our fluxes) per matched reference star (mag).
    index : numpy.ndarray of int
        Indices of the matched reference stars.
    """
    finite = np.isfinite(mag)
    ours, flux = ours[finite], 10.0 ** (-0.4 * np.asarray(mag, float)[finite])
    index_ref, index_ours, separation, _ = ours.search_around_sky(reference, radius_arcsec * u.arcsec)
    total = np.bincount(index_ref, weights=flux[index_ours], minlength=len(reference))
    nearest = np.full(len(reference), np.inf)
    np.minimum.at(nearest, index_ref, separation.arcsec)
    matched = np.flatnonzero((nearest < match_radius_arcsec) & (total > 0))
    return -2.5 * np.log10(total[matched]), matched


@dataclass
class ReferenceFit:
    """Straight-line fit of m_ref - m against m (mag); ``used`` marks the points kept.

    ``mag_min`` and ``mag_max`` bound our magnitudes of the points kept: the
    range over which the relation was measured.
    """

    band: str
    pivot_mag: float
    offset_mag: float
    offset_err_mag: float
    slope: float
    slope_err: float
    rms_mag: float
    n_common: int
    n_rejected: int
    mag_min: float
    mag_max: float
    used: NDArray[np.bool_]

    def as_dict(self) -> dict:
        """JSON-ready summary (without the per-star mask)."""
        out = asdict(self)
        out.pop("used")
        return out


def fit_reference_relation(
    mag: NDArray[np.float64],
    reference_mag: NDArray[np.float64],
    reference_err: NDArray[np.float64],
    band: str,
    pivot: float = 12.0,
    clip_sigma: float = 3.0,
    max_iterations: int = 5,
    min_points: int = 5,
) -> ReferenceFit:
    """Weighted straight-line fit of ``reference_mag - mag`` versus ``mag`` with sigma clipping.

    Parameters
    ----------
    mag, reference_mag, reference_err : numpy.ndarray
        Our calibrated magnitudes, the reference's and its errors (mag), for matched stars.
    band : str
        For messages and the output.
    pivot : float
        Magnitude at which the offset is quoted.
    clip_sigma : float
        Rejection threshold in units of the robust scatter of the residuals.

    Raises
    ------
    ValueError
        Fewer than ``min_points`` finite pairs.
    """
    mag, reference_mag, reference_err = (np.asarray(a, float) for a in (mag, reference_mag, reference_err))
    finite = np.isfinite(mag) & np.isfinite(reference_mag) & np.isfinite(reference_err) & (reference_err > 0)
    if finite.sum() < min_points:
        raise ValueError(
            f"{band}: {int(finite.sum())} stars in common with the reference; at least {min_points} needed"
        )
    x = mag - pivot
    y = reference_mag - mag
    used = finite.copy()
    for _ in range(max_iterations):
        coefficients, covariance = _line(x[used], y[used], reference_err[used])
        residual = y - (coefficients[0] + coefficients[1] * x)
        clipped = sigma_clip(np.where(finite, residual, np.nan), sigma=clip_sigma, stdfunc="mad_std", masked=True)
        new_used = finite & ~np.ma.getmaskarray(clipped)
        if np.array_equal(new_used, used) or new_used.sum() < min_points:
            break
        used = new_used
    coefficients, covariance = _line(x[used], y[used], reference_err[used])
    residual = y[used] - (coefficients[0] + coefficients[1] * x[used])
    return ReferenceFit(
        band=band,
        pivot_mag=pivot,
        offset_mag=float(coefficients[0]),
        offset_err_mag=float(np.sqrt(covariance[0, 0])),
        slope=float(coefficients[1]),
        slope_err=float(np.sqrt(covariance[1, 1])),
        rms_mag=float(np.sqrt(np.mean(residual**2))),
        n_common=int(finite.sum()),
        n_rejected=int(finite.sum() - used.sum()),
        mag_min=float(mag[used].min()),
        mag_max=float(mag[used].max()),
        used=used,
    )


def _line(x: NDArray, y: NDArray, sigma: NDArray) -> tuple[NDArray, NDArray]:
    """Weighted straight line y = c0 + c1 x; covariance scaled by the reduced chi^2 when it exceeds 1."""
    coefficients, covariance, residual = weighted_least_squares(
        np.column_stack([np.ones_like(x), x]), y, sigma, "reference relation"
    )
    chi2 = np.sum((residual / sigma) ** 2) / max(len(y) - 2, 1)
    return coefficients, covariance * max(chi2, 1.0)


def _near_saturated(catalog: Table, reference: Table, resolution_arcsec: float) -> NDArray[np.bool_]:
    """Reference stars with a saturated detection of ours within the reference's resolution."""
    saturated = saturated_detections(catalog)
    if not saturated.any():
        return np.zeros(len(reference), dtype=bool)
    ours = SkyCoord(catalog["ra"][saturated], catalog["dec"][saturated], unit="deg")
    _, separation, _ = SkyCoord(reference["ra"], reference["dec"], unit="deg").match_to_catalog_sky(ours)
    return separation.arcsec < resolution_arcsec


def compare_with_reference(
    catalog: Table,
    reference: Table,
    settings: dict,
    *,
    reference_path: str = "reference",
    log: logging.Logger | None = None,
) -> tuple[dict, list[tuple[NDArray, NDArray, ReferenceFit]]]:
    """The relation m_ref - m of each band (Fig. 6) between our calibrated catalogue and the reference.

    A reference star with a saturated detection of ours within its resolution would compare the reference
    with a clipped-core magnitude: such stars are left out (they are what the relation is used for).

    Parameters
    ----------
    catalog : astropy.table.Table
        Our calibrated catalogue (``ra``, ``dec``, ``H``, ``K``, ``flags_h``, ``flags_ks``).
    reference : astropy.table.Table
        The reference survey (:data:`REFERENCE_COLUMNS`).
    settings : dict
        ``imaging.calibration.reference`` (``resolution_arcsec``, ``match_radius_arcsec``, ``limit_H``,
        ``limit_Ks``, ``pivot_mag``, ``clip_sigma``).
    reference_path : str
        Named when a column is missing.
    log : logging.Logger, optional

    Returns
    -------
    results : dict
        :meth:`ReferenceFit.as_dict` per band ``"H"``, ``"Ks"``.
    panels : list
        (our magnitudes, reference magnitudes, fit) per band, for the figure.
    """
    log = log or logging.getLogger(__name__)
    for column in REFERENCE_COLUMNS:
        if column not in reference.colnames:
            raise ValueError(f"{reference_path}: column {column!r} missing (need {', '.join(REFERENCE_COLUMNS)})")
    near_saturated = _near_saturated(catalog, reference, settings["resolution_arcsec"])
    log.info(
        "%d reference stars have a saturated detection of ours within %.1f arcsec: not compared",
        int(near_saturated.sum()),
        settings["resolution_arcsec"],
    )
    ours = SkyCoord(catalog["ra"], catalog["dec"], unit="deg")
    panels, results = [], {}
    for band, column, limit in (("H", "H", settings["limit_H"]), ("Ks", "K", settings["limit_Ks"])):
        listed = np.flatnonzero(np.isfinite(np.asarray(reference[band], float)) & ~near_saturated)
        mag, matched = blended_magnitudes(
            SkyCoord(reference["ra"][listed], reference["dec"][listed], unit="deg"),
            ours,
            np.asarray(catalog[column], float),
            settings["resolution_arcsec"],
            settings["match_radius_arcsec"],
        )
        theirs = listed[matched]
        log.info(
            "%s: %d reference stars matched within %.1f arcsec; our fluxes summed within %.1f arcsec",
            band,
            theirs.size,
            settings["match_radius_arcsec"],
            settings["resolution_arcsec"],
        )
        ref = np.asarray(reference[band], float)[theirs]
        err = np.asarray(reference[f"e_{band}"], float)[theirs]
        bright = np.isfinite(ref) & (ref < limit)
        fit = fit_reference_relation(
            mag[bright], ref[bright], err[bright], band, pivot=settings["pivot_mag"], clip_sigma=settings["clip_sigma"]
        )
        log.info(
            "%s: reference - ours = %+.3f +- %.3f at %g mag, slope %+.3f +- %.3f, rms %.3f, %d of %d rejected",
            band,
            fit.offset_mag,
            fit.offset_err_mag,
            fit.pivot_mag,
            fit.slope,
            fit.slope_err,
            fit.rms_mag,
            fit.n_rejected,
            fit.n_common,
        )
        results[band] = fit.as_dict()
        panels.append((mag[bright], ref[bright], fit))
    return results, panels
