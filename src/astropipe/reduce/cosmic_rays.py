"""Cosmic-ray removal from single frames (L.A.Cosmic, van Dokkum 2001, as implemented by astroscrappy).

A dithered science sequence needs none of this: the sigma-clipped combine rejects a hit, which
lands on a different sky position in every frame (:mod:`astropipe.reduce.stack`). A standard-star
frame, or a frame of the illumination grid, is measured on its own: a hit inside its aperture adds
its charge to the star (a typical hit of ~4000 e- is ~0.7 % of a Persson standard in a 2 s SOFI
exposure). Such frames are cleaned with the Laplacian edge detection of L.A.Cosmic before aperture
photometry; the detected pixels are replaced by the mean of their good neighbours. A hit on a star's
core is left alone (L.A.Cosmic's ``objlim`` protects what looks like part of a star): on the SOFI
array (0.05 events cm^-2 s^-1) a hit lands within 8 px of a standard in about one 2 s frame in 10^4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astroscrappy import detect_cosmics
from numpy.typing import NDArray

__all__ = ["DetectorNoise", "remove_cosmic_rays"]


@dataclass(frozen=True)
class DetectorNoise:
    """What the cosmic-ray detection needs to know of the detector."""

    gain: float  # e-/ADU
    read_noise: float  # e- per integration
    saturation: float  # ADU: brighter pixels are left alone


def remove_cosmic_rays(
    frame: NDArray[np.float64], detector: DetectorNoise, ndit: int, sigma_clip: float = 5.0
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The frame with cosmic-ray hits replaced, and the mask of the replaced pixels.

    Parameters
    ----------
    frame : numpy.ndarray
        Dark-subtracted, flat-fielded frame with its sky (ADU per DIT, the average of NDIT
        integrations); NaN on bad pixels, which stay NaN.
    detector : DetectorNoise
    ndit : int
        Integrations averaged in the frame: its noise is that of a detector with NDIT times the
        gain and sqrt(NDIT) times the read noise.
    sigma_clip : float
        Laplacian-to-noise detection limit.
    """
    bad = ~np.isfinite(frame)
    data = np.where(bad, np.nanmedian(frame), frame).astype(np.float32)
    mask, cleaned = detect_cosmics(data, inmask=bad, sigclip=sigma_clip, objlim=5.0, gain=detector.gain * ndit,
                                   readnoise=detector.read_noise * np.sqrt(ndit), satlevel=detector.saturation,
                                   niter=4)  # fmt: skip
    cleaned = np.asarray(cleaned, dtype=float)
    cleaned[bad] = np.nan
    return cleaned, np.asarray(mask, dtype=bool) & ~bad
