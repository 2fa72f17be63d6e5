"""Cosmic-ray removal from single frames (L.A.Cosmic, van Dokkum 2001, as implemented by astroscrappy).

A dithered science sequence needs none of this: the sigma-clipped combine rejects a hit, which
lands on a different sky position in every frame (:mod:`astropipe.reduce.stack`). A standard-star
frame, or a frame of the illumination grid, is measured on its own: a hit inside its aperture adds
its charge to the star (a typical hit of ~4000 e- is ~0.7 % of a Persson standard in a 2 s SOFI
exposure). Such frames are cleaned with the Laplacian edge detection of L.A.Cosmic before aperture
photometry; the detected pixels are replaced by the mean of their good neighbours. A hit on a star's
core is left alone (L.A.Cosmic's ``objlim`` protects what looks like part of a star): on the SOFI
array (0.05 events cm^-2 s^-1) a hit lands within 8 px of a standard in about one 2 s frame in 10^4.

Only the pixels a measurement uses need cleaning: :func:`remove_cosmic_rays_near` cleans the box
around one star (a standard's aperture and sky annulus), ~100 times faster than the whole
1024 x 1024 frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astroscrappy import detect_cosmics
from numpy.typing import NDArray

__all__ = ["DetectorNoise", "remove_cosmic_rays", "remove_cosmic_rays_near"]


@dataclass(frozen=True)
class DetectorNoise:
    """What the cosmic-ray detection needs to know of the detector."""

    gain: float  # e-/ADU
    read_noise: float  # e- per integration
    saturation: float  # ADU: brighter pixels are left alone

    def __post_init__(self) -> None:
        for name in ("gain", "read_noise", "saturation"):
            if not getattr(self, name) > 0:
                raise ValueError(f"detector {name} = {getattr(self, name)!r}: expected a positive number")


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
    mask, cleaned = detect_cosmics(
        data,
        inmask=bad,
        sigclip=sigma_clip,
        objlim=5.0,
        gain=detector.gain * ndit,
        readnoise=detector.read_noise * np.sqrt(ndit),
        satlevel=detector.saturation,
        niter=4,
    )
    cleaned = np.asarray(cleaned, dtype=float)
    cleaned[bad] = np.nan
    return cleaned, np.asarray(mask, dtype=bool) & ~bad


def remove_cosmic_rays_near(
    frame: NDArray[np.float64],
    detector: DetectorNoise,
    ndit: int,
    centre: tuple[float, float],
    half_size: int,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """:func:`remove_cosmic_rays` on the square of half-size ``half_size`` px around ``centre`` only.

    Parameters
    ----------
    frame, detector, ndit
        As for :func:`remove_cosmic_rays`.
    centre : tuple of float
        (x, y), 0-based pixels.
    half_size : int
        Half-size of the cleaned box, pixels (clipped at the array's edges). Make it a few pixels
        larger than the region measured: L.A.Cosmic's Laplacian is blind on the box's outermost pixel.

    Returns
    -------
    cleaned : numpy.ndarray
        A copy of ``frame`` with the hits inside the box replaced.
    mask : numpy.ndarray
        Replaced pixels (False outside the box).
    """
    rows, columns = frame.shape
    x, y = (int(round(value)) for value in centre)
    box = (
        slice(max(y - half_size, 0), min(y + half_size + 1, rows)),
        slice(max(x - half_size, 0), min(x + half_size + 1, columns)),
    )
    cleaned, mask = frame.copy(), np.zeros(frame.shape, dtype=bool)
    if frame[box].size:
        cleaned[box], mask[box] = remove_cosmic_rays(frame[box], detector, ndit)
    return cleaned, mask
