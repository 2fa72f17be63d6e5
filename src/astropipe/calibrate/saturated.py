"""Saturated stars measured by a shallower reference survey (2MASS) instead of our PSF photometry.

The brightest stars of a deep near-IR image are saturated: their cores are
clipped, and the photometry measures each from its wings alone
(:mod:`astropipe.photometry.saturated_stars`), through the ePSF's least
certain part (on a simulated SOFI night K < 9 within 0.05 mag, but the two
stars of H < 8 1.5 mag faint), so their magnitudes are not even bounds. Leaving them out
is not neutral either: the saturation level depends on the local background
(the nebula around Object 11 saturates stars ~0.5 mag fainter than in the
reference field), so the object and field CMDs lose different fractions of
their bright stars and the statistical decontamination over-subtracts the
bright end - exactly where the tenth-brightest member lies (Dutra et al. 2003, §3.3).

The standard remedy is to take these stars from a shallower survey that does
not saturate there (2MASS saturates at K ~ 4), transformed to our system with
the relation measured on the stars both catalogues measure well (Dutra et al. 2003, §3.2,
Fig. 6): m_ref - m = c0 + c1 (m - pivot), hence

    m = (m_ref - c0 + c1 pivot) / (1 + c1)

inside the range the relation was measured on, and m = m_ref minus the
difference at the nearer end of that range outside it.

A reference star replaces our saturated detections when the detection nearest
to it is saturated; every saturated detection within the reference's
resolution of it (the fragments of a split star) goes with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table, vstack
from astropy.wcs import WCS
from numpy.typing import NDArray

from astropipe.photometry.catalog import FLAG_SATURATED

__all__ = [
    "ReferenceSubstitution",
    "replace_saturated",
    "saturated_detections",
    "substitute_saturated",
    "to_our_system",
]


def saturated_detections(catalog: Table) -> NDArray[np.bool_]:
    """Per row of a merged H/Ks catalogue (``flags_h``, ``flags_ks``): saturated in either band."""
    return ((np.asarray(catalog["flags_h"]) | np.asarray(catalog["flags_ks"])) & FLAG_SATURATED) > 0


def to_our_system(reference_mag: NDArray[np.float64], relation: dict[str, float]) -> NDArray[np.float64]:
    """Reference-survey magnitudes in our system, inverting m_ref - m = c0 + c1 (m - pivot).

    The relation is known only over the range it was measured on (our
    ``mag_min`` to ``mag_max``); beyond it - saturated stars are brighter than
    every star the fit could use - the difference is held at its value at
    the nearer end instead of extrapolating a slope measured over a magnitude
    or two (whose error still enters the stars' errors).

    Parameters
    ----------
    reference_mag : numpy.ndarray
        Magnitudes in the reference system (mag).
    relation : dict
        ``offset_mag`` (c0), ``slope`` (c1), ``pivot_mag``, ``mag_min`` and
        ``mag_max`` of the fitted relation
        (:func:`astropipe.calibrate.reference_comparison.fit_reference_relation`).
    """
    c0, c1, pivot = relation["offset_mag"], relation["slope"], relation["pivot_mag"]
    reference_mag = np.asarray(reference_mag, float)
    lo, hi = relation["mag_min"], relation["mag_max"]
    difference_lo, difference_hi = c0 + c1 * (lo - pivot), c0 + c1 * (hi - pivot)
    inside = (reference_mag - c0 + c1 * pivot) / (1.0 + c1)
    return np.where(
        reference_mag < lo + difference_lo,
        reference_mag - difference_lo,
        np.where(reference_mag > hi + difference_hi, reference_mag - difference_hi, inside),
    )


@dataclass
class ReferenceSubstitution:
    """Outcome of :func:`substitute_saturated`.

    Attributes
    ----------
    stars : astropy.table.Table
        One row per substituted reference star, with our catalogue's columns
        (magnitudes in our system, flags 0).
    replaced : numpy.ndarray of bool
        Per catalogue row: a saturated detection now represented by a reference star.
    """

    stars: Table
    replaced: NDArray[np.bool_]


def substitute_saturated(
    catalog: Table,
    saturated: NDArray[np.bool_],
    reference: Table,
    relations: dict[str, dict[str, float]],
    resolution_arcsec: float,
) -> ReferenceSubstitution:
    """Reference-survey stars standing in for our saturated detections.

    Parameters
    ----------
    catalog : astropy.table.Table
        Our calibrated catalogue: ``ra``, ``dec`` (deg), ``H``, ``K``, ``HK`` and
        their errors, ``e_*_cal`` calibration errors, ``flags_h``, ``flags_ks``.
    saturated : numpy.ndarray of bool
        Per catalogue row: saturated in either band.
    reference : astropy.table.Table
        ``ra``, ``dec`` (deg), ``H``, ``e_H``, ``Ks``, ``e_Ks`` (mag); stars
        without both magnitudes cannot give a colour and are not used.
    relations : dict
        Fitted relations per band ``"H"`` and ``"Ks"`` (reference minus ours).
    resolution_arcsec : float
        Resolution of the reference survey: saturated detections within it of
        a substituted star are its fragments or companions it blends.

    Returns
    -------
    ReferenceSubstitution
        The substitute rows and which catalogue rows they replace. Errors are
        the reference error, the relation's rms and its slope error times the
        distance from the pivot in quadrature; the calibration errors add the
        relation's offset error.
    """
    saturated = np.asarray(saturated, bool)
    both = np.flatnonzero(
        np.isfinite(np.asarray(reference["H"], float)) & np.isfinite(np.asarray(reference["Ks"], float))
    )
    ref = reference[both]
    ours = SkyCoord(catalog["ra"], catalog["dec"], unit="deg")
    theirs = SkyCoord(ref["ra"], ref["dec"], unit="deg")
    replaced = np.zeros(len(catalog), dtype=bool)
    if len(ref) == 0 or not saturated.any():
        return ReferenceSubstitution(_rows(catalog, ref[:0], relations), replaced)
    nearest, separation, _ = theirs.match_to_catalog_sky(ours)
    chosen = np.flatnonzero(saturated[nearest] & (separation.arcsec < resolution_arcsec))
    stars = _rows(catalog, ref[chosen], relations)
    if not saturated.all():
        _deblend(stars, theirs[chosen], catalog[~saturated], ours[~saturated], resolution_arcsec)
    usable = np.isfinite(stars["H"]) & np.isfinite(stars["K"])
    _, index_ours, _, _ = ours[saturated].search_around_sky(theirs[chosen[usable]], resolution_arcsec * u.arcsec)
    replaced[np.flatnonzero(saturated)[index_ours]] = True
    return ReferenceSubstitution(stars[usable], replaced)


def _deblend(
    stars: Table, positions: SkyCoord, unsaturated: Table, unsaturated_positions: SkyCoord, resolution_arcsec: float
) -> None:
    """Take out of each substitute the light of our unsaturated stars inside the reference's beam.

    The reference reports a bright star and its companions within its
    resolution as one; we measure the companions separately, so keeping their
    light in the substitute would count it twice (the fitted relation compares
    the reference with our fluxes summed the same way). A substitute left with
    no positive flux gets NaN magnitudes (and is dropped: the saturated
    detection was then a fragment of our companions' light).
    """
    index_sub, index_ours, _, _ = unsaturated_positions.search_around_sky(positions, resolution_arcsec * u.arcsec)
    for band in ("H", "K"):
        companion = np.nan_to_num(10.0 ** (-0.4 * np.asarray(unsaturated[band], float)[index_ours]))
        flux = 10.0 ** (-0.4 * np.asarray(stars[band], float)) - np.bincount(index_sub, companion, minlength=len(stars))
        with np.errstate(invalid="ignore", divide="ignore"):
            stars[band] = np.where(flux > 0, -2.5 * np.log10(flux), np.nan)
    stars["HK"] = stars["H"] - stars["K"]


def _rows(catalog: Table, ref: Table, relations: dict[str, dict[str, float]]) -> Table:
    """Reference stars as rows of our catalogue (magnitudes transformed, flags 0)."""
    out = Table()
    out["ra"], out["dec"] = np.asarray(ref["ra"], float), np.asarray(ref["dec"], float)
    for ours, theirs in (("H", "H"), ("K", "Ks")):
        relation = relations[theirs]
        out[ours] = to_our_system(ref[theirs], relation)
        extrapolation = relation["slope_err"] * (
            out[ours] - relation["pivot_mag"]
        )  # the slope's error far from the pivot
        scatter = np.hypot(np.asarray(ref[f"e_{theirs}"], float), relation["rms_mag"])
        out[f"e_{ours}"] = np.hypot(scatter, extrapolation)
        common = float(np.nanmedian(catalog[f"e_{ours}_cal"])) if len(catalog) else 0.0
        out[f"e_{ours}_cal"] = np.full(len(ref), np.hypot(common, relation["offset_err_mag"]))
    out["HK"] = out["H"] - out["K"]
    out["e_HK"] = np.hypot(out["e_H"], out["e_K"])
    out["e_HK_cal"] = np.hypot(out["e_H_cal"], out["e_K_cal"])
    for column in ("flags_h", "flags_ks"):
        out[column] = np.zeros(len(ref), dtype=catalog[column].dtype)
    return out


def replace_saturated(
    catalog: Table, reference: Table, relations: dict[str, dict[str, float]], resolution_arcsec: float, wcs: WCS
) -> tuple[Table, int, int]:
    """The catalogue with its saturated detections replaced by the reference stars standing in for them.

    Parameters
    ----------
    catalog : astropy.table.Table
        As for :func:`substitute_saturated`, with ``id``, ``x_ks``, ``y_ks``, ``separation`` and
        ``source`` (``"psf"``) columns.
    reference, relations, resolution_arcsec
        As for :func:`substitute_saturated`.
    wcs : astropy.wcs.WCS
        Celestial WCS of the Ks stack (the substitutes' ``x_ks``, ``y_ks``).

    Returns
    -------
    catalog : astropy.table.Table
        The unreplaced rows, then the substitutes (``source`` ``"reference"``, new ids, separation 0).
    n_replaced : int
        Saturated detections replaced.
    n_substitutes : int
        Reference stars added.
    """
    substitution = substitute_saturated(catalog, saturated_detections(catalog), reference, relations, resolution_arcsec)
    substitutes = substitution.stars
    substitutes["x_ks"], substitutes["y_ks"] = wcs.world_to_pixel_values(substitutes["ra"], substitutes["dec"])
    substitutes["id"] = np.max(catalog["id"], initial=0) + 1 + np.arange(len(substitutes))
    substitutes["separation"] = 0.0
    substitutes["source"] = "reference"
    merged = vstack([catalog[~substitution.replaced], substitutes[catalog.colnames]], metadata_conflicts="silent")
    return merged, int(substitution.replaced.sum()), len(substitutes)
