"""Astrometric calibration of a stack against a reference catalogue (2MASS-like).

The header WCS of a stack is the telescope's: its pointing errs by several arcsec from sequence to
sequence, and the field may be rotated by a fraction of a degree. The stack's WCS is fitted to a
reference catalogue in three steps:

1. **Offset by voting**: the reference stars are placed on the stack with the header WCS, and every
   difference (reference - detected) between the brightest detected stars and the reference stars
   within ``search_radius_arcsec`` is counted in a 2-D histogram with bins of the match radius; the
   peak is the pointing error (robust to crowding: unrelated pairs spread over the histogram, true
   pairs pile up in one bin; a rotation of a fraction of a degree moves stars at the edge of a SOFI
   field by less than a bin).
2. **Match and fit**: stars within the match radius of their shifted reference position are paired,
   and a TAN WCS is fitted to the pairs (``astropy.wcs.utils.fit_wcs_from_points``: reference pixel,
   scale, rotation and skew).
3. **Iterate**: the reference is re-projected with the fitted WCS, re-matched, pairs beyond 3 sigma of
   the residuals are dropped, and the WCS refitted, until the matched set stops changing.

The solution records the number of pairs, the rms residual (arcsec) and how far the header's
pointing and rotation were from the fit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from astropy.table import Table
from astropy.wcs import WCS
from astropy.wcs.utils import fit_wcs_from_points
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from astropipe.photometry.detection import detect_stars

__all__ = [
    "AstrometricSolution",
    "AstrometryError",
    "AstrometrySettings",
    "bright_stars",
    "fit_astrometry",
    "solve_stack_astrometry",
]


class AstrometryError(ValueError):
    """The stack's WCS cannot be fitted to the reference catalogue."""


@dataclass(frozen=True)
class AstrometrySettings:
    """How the stack's WCS is fitted.

    Attributes
    ----------
    search_radius_arcsec : float
        Largest pointing error searched for, arcsec.
    match_radius_arcsec : float
        Pairs closer than this after the shift (and after each fit) are matches, arcsec.
    max_stars : int
        Brightest detected stars used.
    min_matches : int
        Fewest pairs accepted for a fit.
    detection_nsigma : float
        Detection threshold of the stars used, in units of the stack's noise.
    fwhm_arcsec : float
        FWHM guess for the detection, arcsec.
    """

    search_radius_arcsec: float = 60.0
    match_radius_arcsec: float = 1.0
    max_stars: int = 150
    min_matches: int = 8
    detection_nsigma: float = 10.0
    fwhm_arcsec: float = 0.8

    def __post_init__(self) -> None:
        if not 0 < self.match_radius_arcsec < self.search_radius_arcsec:
            raise ValueError(
                f"match_radius_arcsec = {self.match_radius_arcsec} must be > 0 and below "
                f"search_radius_arcsec = {self.search_radius_arcsec}"
            )
        if self.min_matches < 4:
            raise ValueError(
                f"min_matches = {self.min_matches}: a TAN WCS has 6 parameters; at least 4 pairs are needed"
            )


@dataclass(frozen=True)
class AstrometricSolution:
    """A fitted WCS and how well it fits.

    Attributes
    ----------
    wcs : astropy.wcs.WCS
        The fitted celestial WCS (TAN).
    n_matched : int
        Pairs in the final fit.
    rms_arcsec : float
        Root-mean-square distance of the pairs from their reference positions, arcsec.
    header_error_east_arcsec, header_error_north_arcsec : float
        Where the header WCS put the stack's centre, relative to the fit (arcsec east and north).
    header_rotation_error_deg : float
        Rotation of the header WCS relative to the fit, degrees (counter-clockwise on the detector).
    """

    wcs: WCS
    n_matched: int
    rms_arcsec: float
    header_error_east_arcsec: float
    header_error_north_arcsec: float
    header_rotation_error_deg: float

    def as_dict(self) -> dict[str, float | int]:
        values = asdict(self)
        values.pop("wcs")
        return values


def bright_stars(
    image: NDArray[np.float64], pixel_scale: float, settings: AstrometrySettings, saturation: float = np.inf
) -> NDArray[np.float64]:
    """(x, y) of the brightest unsaturated stars of a sky-subtracted stack, brightest first."""
    finite = np.isfinite(image)
    _, median, std = sigma_clipped_stats(image[finite], sigma=3.0)
    signal = np.where(finite, image - median, np.nan)
    found = detect_stars(
        signal, np.full(image.shape, std), settings.fwhm_arcsec / pixel_scale, settings.detection_nsigma
    )
    found = found[np.asarray(found["peak"]) + median < saturation]
    order = np.argsort(-np.asarray(found["peak"]))[: settings.max_stars]
    return np.column_stack([np.asarray(found["x"])[order], np.asarray(found["y"])[order]])


def _voted_offset(detected: NDArray, reference: NDArray, search_px: float, bin_px: float) -> tuple[NDArray, int]:
    """Most frequent (reference - detected) difference within ``search_px``, and its count."""
    differences = (reference[None, :, :] - detected[:, None, :]).reshape(-1, 2)
    differences = differences[np.all(np.abs(differences) <= search_px, axis=1)]
    if len(differences) == 0:
        return np.zeros(2), 0
    edges = np.arange(-search_px, search_px + bin_px, bin_px)
    counts, _, _ = np.histogram2d(differences[:, 0], differences[:, 1], bins=(edges, edges))
    i, j = np.unravel_index(np.argmax(counts), counts.shape)
    centre = np.array([0.5 * (edges[i] + edges[i + 1]), 0.5 * (edges[j] + edges[j + 1])])
    near = np.all(np.abs(differences - centre) <= bin_px, axis=1)
    return np.median(differences[near], axis=0), int(counts[i, j])


def _pairs(detected: NDArray, reference: NDArray, radius_px: float) -> tuple[NDArray, NDArray]:
    """Detected stars paired with their nearest reference star within ``radius_px`` (one-to-one)."""
    distance, index = cKDTree(reference).query(detected, distance_upper_bound=radius_px)
    matched = np.flatnonzero(np.isfinite(distance))
    index = index[matched]
    unique = np.unique(index, return_counts=True)
    single = np.isin(index, unique[0][unique[1] == 1])
    return matched[single], index[single]


def _rotation_deg(wcs: WCS) -> float:
    matrix = wcs.pixel_scale_matrix
    return float(np.degrees(np.arctan2(-matrix[1, 0], -matrix[0, 0])))


def fit_astrometry(
    detected_xy: NDArray[np.float64],
    reference: SkyCoord,
    header_wcs: WCS,
    pixel_scale: float,
    settings: AstrometrySettings,
    shape: tuple[int, int],
) -> AstrometricSolution:
    """Fit the WCS of an image to a reference catalogue.

    Parameters
    ----------
    detected_xy : numpy.ndarray
        (N, 2) pixel positions (0-based) of stars on the image, brightest first.
    reference : astropy.coordinates.SkyCoord
        Reference catalogue positions.
    header_wcs : astropy.wcs.WCS
        The image's WCS as the header gives it (the first guess).
    pixel_scale : float
        arcsec/pixel.
    settings : AstrometrySettings
    shape : (int, int)
        Image shape (rows, columns), for the centre of the header-error estimate.

    Raises
    ------
    AstrometryError
        If fewer than ``settings.min_matches`` pairs are found.
    """
    reference_xy = np.column_stack(header_wcs.world_to_pixel(reference))
    search_px = settings.search_radius_arcsec / pixel_scale
    match_px = settings.match_radius_arcsec / pixel_scale
    margin = search_px + match_px
    inside = np.all((reference_xy > -margin) & (reference_xy < np.array(shape[::-1]) + margin), axis=1)
    reference, reference_xy = reference[inside], reference_xy[inside]
    if len(detected_xy) < settings.min_matches or len(reference) < settings.min_matches:
        raise AstrometryError(
            f"{len(detected_xy)} stars detected and {len(reference)} reference stars near the field; "
            f"at least {settings.min_matches} of each are needed"
        )
    shift, votes = _voted_offset(detected_xy, reference_xy, search_px, match_px)
    detected_index, reference_index = _pairs(detected_xy + shift, reference_xy, 2.0 * match_px)
    wcs = header_wcs
    for _ in range(5):
        if len(detected_index) < settings.min_matches:
            raise AstrometryError(
                f"only {len(detected_index)} stars match the reference catalogue (offset vote: "
                f"{votes} pairs at {shift * pixel_scale} arcsec); at least {settings.min_matches} "
                f"are needed within {settings.match_radius_arcsec} arcsec"
            )
        xy = detected_xy[detected_index]
        wcs = fit_wcs_from_points((xy[:, 0], xy[:, 1]), reference[reference_index], projection="TAN")
        residual = np.hypot(*(np.column_stack(wcs.world_to_pixel(reference[reference_index])) - xy).T)
        keep = residual <= max(3.0 * np.sqrt(np.mean(residual**2)), 0.1)
        projected = np.column_stack(wcs.world_to_pixel(reference))
        new_detected, new_reference = _pairs(detected_xy, projected, match_px)
        if set(zip(new_detected, new_reference, strict=True)) == set(
            zip(detected_index[keep], reference_index[keep], strict=True)
        ):
            detected_index, reference_index = detected_index[keep], reference_index[keep]
            break
        detected_index, reference_index = new_detected, new_reference
    xy = detected_xy[detected_index]
    wcs = fit_wcs_from_points((xy[:, 0], xy[:, 1]), reference[reference_index], projection="TAN")
    fitted_sky = wcs.pixel_to_world(xy[:, 0], xy[:, 1])
    rms = float(np.sqrt(np.mean(fitted_sky.separation(reference[reference_index]).to_value(u.arcsec) ** 2)))
    centre = ((shape[1] - 1) / 2.0, (shape[0] - 1) / 2.0)
    east, north = wcs.pixel_to_world(*centre).spherical_offsets_to(header_wcs.pixel_to_world(*centre))
    return AstrometricSolution(
        wcs=wcs,
        n_matched=len(detected_index),
        rms_arcsec=rms,
        header_error_east_arcsec=float(east.to_value(u.arcsec)),
        header_error_north_arcsec=float(north.to_value(u.arcsec)),
        header_rotation_error_deg=_rotation_deg(header_wcs) - _rotation_deg(wcs),
    )


def solve_stack_astrometry(
    image: NDArray[np.float64], header: fits.Header, reference: Table, settings: AstrometrySettings, *, source: str = ""
) -> tuple[fits.Header, AstrometricSolution]:
    """The stack's header with its WCS fitted to ``reference`` (columns ``ra``, ``dec`` in deg).

    The fitted WCS replaces the header's; ``ASTRRMS`` (arcsec), ``ASTRNMAT`` and ``ASTRREF`` record the fit.
    """
    for column in ("ra", "dec"):
        if column not in reference.colnames:
            raise AstrometryError(
                f"{source}: the reference catalogue has no column {column!r} (columns: {reference.colnames})"
            )
    header_wcs = WCS(header).celestial
    pixel_scale = float(header["PIXSCALE"])
    detected = bright_stars(image, pixel_scale, settings, float(header.get("SATURATE", np.inf)))
    sky = SkyCoord(np.asarray(reference["ra"], float), np.asarray(reference["dec"], float), unit="deg")
    try:
        solution = fit_astrometry(detected, sky, header_wcs, pixel_scale, settings, image.shape)
    except AstrometryError as error:
        raise AstrometryError(f"{source}: {error}") from error
    fitted = header.copy()
    for key in header_wcs.to_header():
        fitted.remove(key, ignore_missing=True, remove_all=True)
    for key in ("CD1_1", "CD1_2", "CD2_1", "CD2_2", "PC1_1", "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2"):
        fitted.remove(key, ignore_missing=True, remove_all=True)
    fitted.update(solution.wcs.to_header())
    fitted["ASTRRMS"] = (round(solution.rms_arcsec, 4), "[arcsec] rms of the astrometric fit")
    fitted["ASTRNMAT"] = (solution.n_matched, "stars matched to the reference catalogue")
    fitted["ASTRREF"] = (Path(source).name[-60:], "reference catalogue")
    return fitted, solution
