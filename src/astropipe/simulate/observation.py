"""Observing a field: photometric system, thermal sky, dithers, WCS and ESO headers.

Instrumental magnitudes follow the paper's calibration equations (Dutra et al. 2003,
eqs. 1-3) run backwards: a star of standard magnitudes H, K gives, per
second and above the atmosphere,

    h_s = H - a_H (H - K) - z_H,      k_s = K - a_K (H - K) - z_K,

and at airmass X the count rate is 10^(-0.4 (m_s + K_lambda X)) ADU/s. The
thermal sky and nebulae (mag/arcsec^2) are converted with the same zero
points (no extinction: the sky is the atmosphere). Header offsets
``ESO SEQ CUMOFFSETX/Y`` are the shift in pixels of the sky on the detector
relative to the first exposure of the sequence (a sky point at x in the first
exposure is at x + CUMOFFSETX here), as the telescope reports it: off by a few
pixels (:func:`reported_offsets`).
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS
from numpy.typing import NDArray

__all__ = [
    "OVERHEAD_S",
    "PIXEL_SCALES",
    "PhotometricSystem",
    "SkyModel",
    "dither_offsets",
    "frame_wcs",
    "pointing_after_offset",
    "raw_header",
    "reported_offsets",
    "reported_wcs",
]

#: SOFI pixel scales (arcsec/pixel) of the small and large fields (Dutra et al. 2003, §2.1)
PIXEL_SCALES = {"small": 0.145, "large": 0.292}
#: clock overhead per exposure (s), for the time stamps
OVERHEAD_S = 10.0


@dataclass(frozen=True)
class PhotometricSystem:
    """Zero points, colour terms and extinction of the instrument (eqs. 1-3)."""

    zero_point: dict[str, float]  # z_H, z_K (mag)
    colour_term: dict[str, float]  # a_H, a_K
    extinction: dict[str, float]  # K_H, K_K (mag / airmass)

    def count_rate(self, band: str, h: NDArray, k: NDArray, airmass: float) -> NDArray[np.float64]:
        """ADU/s of stars with standard magnitudes (H, K) observed in ``band`` at ``airmass``."""
        standard = h if band == "H" else k
        instrumental = standard - self.colour_term[band] * (h - k) - self.zero_point[band]
        return 10.0 ** (-0.4 * (instrumental + self.extinction[band] * airmass))

    def surface_rate(self, band: str, mag_arcsec2: NDArray | float, pixel_scale: float) -> NDArray[np.float64]:
        """ADU/s per pixel of diffuse emission of surface brightness ``mag_arcsec2``."""
        return 10.0 ** (-0.4 * (np.asarray(mag_arcsec2) - self.zero_point[band])) * pixel_scale**2


@dataclass(frozen=True)
class SkyModel:
    """Thermal sky: mean surface brightness per band, slow drift and fast variation."""

    mag_arcsec2: dict[str, float]
    drift_per_hour: float = 0.05  # fractional change of the level per hour
    variation: float = 0.01  # rms of frame-to-frame fluctuations
    gradient: float = 0.005  # fractional gradient across the array

    def level(self, band: str, hours: float, rng: np.random.Generator) -> float:
        """Sky surface brightness (mag/arcsec^2) at ``hours`` since the start of the night."""
        factor = (1.0 + self.drift_per_hour * hours) * (1.0 + self.variation * rng.standard_normal())
        return self.mag_arcsec2[band] - 2.5 * np.log10(factor)

    def pattern(self, shape: tuple[int, int], rng: np.random.Generator) -> NDArray[np.float64]:
        """Multiplicative large-scale structure of the sky (a random tilt)."""
        ny, nx = shape
        y, x = np.mgrid[0:ny, 0:nx]
        gx, gy = self.gradient * rng.standard_normal(2)
        return 1.0 + gx * (x / nx - 0.5) + gy * (y / ny - 0.5)


def frame_wcs(pointing: SkyCoord, pixel_scale: float, shape: tuple[int, int]) -> WCS:
    """TAN WCS (ICRS), north up, east left, pointing at the array centre."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [pointing.ra.deg, pointing.dec.deg]
    wcs.wcs.crpix = [shape[1] / 2 + 0.5, shape[0] / 2 + 0.5]
    wcs.wcs.cd = np.array([[-pixel_scale, 0.0], [0.0, pixel_scale]]) / 3600.0
    wcs.wcs.radesys = "ICRS"
    wcs.wcs.equinox = 2000.0
    return wcs


def dither_offsets(rng: np.random.Generator, n: int, box_arcsec: float) -> NDArray[np.float64]:
    """Telescope offsets (east, north) in arcsec: first at 0, then random in the jitter box.

    Positions closer than 2 arcsec to an earlier one are redrawn, as the SOFI
    AutoJitter template avoids repeating a position.
    """
    offsets = [np.zeros(2)]
    while len(offsets) < n:
        candidate = rng.uniform(-box_arcsec / 2, box_arcsec / 2, 2)
        if min(np.hypot(*(candidate - o)) for o in offsets) > 2.0:
            offsets.append(candidate)
    return np.array(offsets)


#: the SOFI template of each kind of frame (SOFI User's Manual, template reference)
TEMPLATES = {
    "OBJECT": "SOFI_img_obs_AutoJitter",
    "STD": "SOFI_img_cal_StandardStar",
    "DARK": "SOFI_img_cal_Darks",
    "FLAT,LAMP": "SOFI_img_cal_SpecialDomeFlats",
}
#: the template of a standard star stepped over the array for the illumination correction
ILLUMINATION_TEMPLATE = "SOFI_img_cal_Illumination"


def raw_header(
    wcs: WCS,
    *,
    target: str,
    frame_type: str,
    band: str | None,
    dit: float,
    ndit: int,
    airmass: float,
    start: Time,
    pixel_scale: float,
    expno: int,
    nexp: int,
    header_offset_px: tuple[float, float] = (0.0, 0.0),
    true_offset_px: tuple[float, float] = (0.0, 0.0),
    template: str | None = None,
) -> fits.Header:
    """A raw SOFI header as the ESO archive delivers it, with a celestial WCS.

    Parameters
    ----------
    wcs : astropy.wcs.WCS
        The frame's celestial WCS as the telescope reports it (written as the header's WCS and pointing).
    target : str
        ``OBJECT`` and ``OBS TARG NAME``.
    frame_type : str
        ``OBJECT``, ``STD``, ``DARK`` or ``FLAT,LAMP`` (``DPR TYPE``; category, technique and template follow).
    band : str or None
        Filter in wheel 1 (wheel 2 open); None closes wheel 1 (``blank``, darks).
    header_offset_px, true_offset_px : (float, float)
        ``SEQ CUMOFFSETX/Y`` as the telescope reports it, and the true shift of the sky (pixels),
        kept in the simulator's own ``ASTROPIPE TRUE CUMOFFSETX/Y`` for tests.
    template : str, optional
        ``TPL ID`` when it is not the usual template of ``frame_type`` (:data:`TEMPLATES`).
    """
    header = fits.Header()
    header["ORIGIN"] = ("ESO", "European Southern Observatory")
    header["TELESCOP"] = "ESO-NTT"
    header["INSTRUME"] = "SOFI"
    header["OBJECT"] = target
    header["DATE-OBS"] = start.isot
    header["MJD-OBS"] = (start.mjd, "start of the exposure")
    header["EXPTIME"] = (dit * ndit, "[s] DIT x NDIT")
    header["BUNIT"] = ("ADU", "average of NDIT integrations of DIT seconds")
    header["SIMULATE"] = (True, "frame made by the astropipe SOFI simulator")
    header.extend(wcs.to_header(), update=True)
    header["RA"] = (wcs.wcs.crval[0], "[deg] telescope pointing")
    header["DEC"] = (wcs.wcs.crval[1], "[deg] telescope pointing")
    category = "SCIENCE" if frame_type == "OBJECT" else "CALIB"
    eso = {
        "ESO OBS TARG NAME": target,
        "ESO TPL ID": template or TEMPLATES[frame_type],
        "ESO TPL EXPNO": expno,
        "ESO TPL NEXP": nexp,
        "ESO DPR CATG": category,
        "ESO DPR TYPE": frame_type,
        "ESO DPR TECH": "IMAGE,JITTER" if frame_type in ("OBJECT", "STD") else "IMAGE",
        "ESO DET DIT": (dit, "[s] detector integration time"),
        "ESO DET NDIT": (ndit, "number of averaged integrations"),
        "ESO INS MODE": "SFOV" if pixel_scale < 0.2 else "LFOV",
        "ESO INS PIXSCALE": (pixel_scale, "[arcsec/pixel]"),
        "ESO INS FILT1 ID": band if band is not None else "blank",
        "ESO INS FILT2 ID": "open",
        "ESO TEL AIRM START": airmass,
        "ESO TEL AIRM END": airmass,
        "ESO SEQ CUMOFFSETX": (header_offset_px[0], "[px] cumulative offset"),
        "ESO SEQ CUMOFFSETY": (header_offset_px[1], "[px] cumulative offset"),
        "ASTROPIPE TRUE CUMOFFSETX": (true_offset_px[0], "[px] simulated truth"),
        "ASTROPIPE TRUE CUMOFFSETY": (true_offset_px[1], "[px] simulated truth"),
    }
    for key, value in eso.items():
        header[f"HIERARCH {key}"] = value
    return header


def reported_wcs(true_wcs: WCS, error_arcsec: NDArray[np.float64], rotation_deg: float) -> WCS:
    """The WCS a raw header gives: the true one pointed ``error_arcsec`` (east, north) off and rotated by
    ``rotation_deg`` (the telescope's pointing error and an uncorrected field rotation)."""
    reported = true_wcs.deepcopy()
    centre = SkyCoord(*true_wcs.wcs.crval, unit="deg")
    moved = pointing_after_offset(centre, error_arcsec)
    reported.wcs.crval = [moved.ra.deg, moved.dec.deg]
    angle = np.radians(rotation_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    reported.wcs.cd = rotation @ true_wcs.wcs.cd
    return reported


def reported_offsets(rng: np.random.Generator, true_px: NDArray[np.float64], rms_px: float) -> NDArray[np.float64]:
    """Header offsets as NTT/SOFI reports them: the truth plus an error of ``rms_px`` per axis, at most
    10 px, and a first exposure whose offset is not zero (the quirk the pipeline ignores)."""
    errors = np.clip(rng.normal(0.0, rms_px, true_px.shape), -10.0, 10.0)
    return np.round(true_px + errors, 3)


def pointing_after_offset(center: SkyCoord, offset_arcsec: NDArray[np.float64]) -> SkyCoord:
    """Pointing moved east/north by ``offset_arcsec`` from ``center``."""
    return center.spherical_offsets_by(offset_arcsec[0] * u.arcsec, offset_arcsec[1] * u.arcsec)
