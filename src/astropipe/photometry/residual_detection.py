"""New stars in the subtracted image: DAOPHOT's re-detection passes, with the companions of poor fits."""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from astropipe.photometry.detection import MIN_SEPARATION_FWHM, ROUNDNESS_LIMIT, detect_stars
from astropipe.photometry.settings import PhotometrySettings

__all__ = ["residual_detections"]


def residual_detections(
    residual: NDArray[np.float64],
    noise: NDArray[np.float64],
    model_error: NDArray[np.float64],
    fwhm: float,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    poor_fit: NDArray[np.bool_],
    settings: PhotometrySettings,
) -> Table:
    """New stars in the subtracted image: those clear of every fitted star, and the companions of poor fits.

    ``residual``, ``noise`` and ``model_error`` are images in the same units; ``fwhm`` in pixels; ``x``, ``y``
    and ``poor_fit`` describe the fitted stars. Returns the detections kept (``detect_stars``' columns).

    The threshold is ``detection_nsigma`` times the noise and the subtracted models' uncertainty
    ``model_error`` (:func:`astropipe.photometry.subtraction_error.subtraction_error`) in quadrature.

    A detection within ``MIN_SEPARATION_FWHM`` of a fitted star is that star's
    own subtraction residual, unless the star's fit is poor (``poor_fit``:
    ``chi`` >= ``max_chi``, not saturated): a pair fitted as one star leaves a
    crescent-shaped positive lobe beyond each component, ~0.8 FWHM from the
    fitted centre and too elongated for DAOFIND's roundness cut. Such a star
    gets its strongest lobe (beyond ``companion_separation_fwhm``) as a second
    star, and the next pass fits the two (the DAOPHOT practice of looking for
    the companions of high-chi stars in the subtracted image). Detections
    clear of every star keep the roundness cut of the first pass.
    """
    found = detect_stars(
        residual,
        noise,
        fwhm,
        nsigma=settings.detection_nsigma,
        roundness_range=(-2 * ROUNDNESS_LIMIT, 2 * ROUNDNESS_LIMIT),
        model_error=model_error,
    )
    if len(found) == 0 or x.size == 0:
        return found
    distance, nearest = cKDTree(np.column_stack([x, y])).query(np.column_stack([found["x"], found["y"]]))
    round_enough = np.abs(np.asarray(found["roundness"], float)) <= ROUNDNESS_LIMIT
    clear = (distance > MIN_SEPARATION_FWHM * fwhm) & round_enough
    candidate = np.flatnonzero(
        (distance <= MIN_SEPARATION_FWHM * fwhm)
        & poor_fit[nearest]
        & (distance > settings.companion_separation_fwhm * fwhm)
    )
    # one companion per poorly fitted star: its highest residual peak
    order = candidate[np.lexsort((-np.asarray(found["peak"], float)[candidate], nearest[candidate]))]
    strongest = order[np.r_[True, nearest[order[1:]] != nearest[order[:-1]]]] if order.size else order
    keep = clear.copy()
    keep[strongest] = True
    return found[keep]
