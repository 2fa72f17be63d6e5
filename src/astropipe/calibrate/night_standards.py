"""A night's standard stars: every standard frame measured, and the transformation of each band fitted
(Dutra et al. 2003, §3.1, eqs. 1-3).

:func:`measure_standards` reduces each standard-star frame with the night's masters (linearity, dark,
flat, bad pixels), identifies the standard from its header and measures it in the aperture of the
standards' system, cosmic rays removed around it. :func:`fit_night` normalises the measurements to
1 s and airmass 0 (eq. 1), fits eqs. 2-3 per band and gives each band the halo term of the fields'
aperture corrections.
"""

from __future__ import annotations

import logging

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astropipe.calibrate.persson_catalogue import identify_standard
from astropipe.calibrate.standards import StandardApertures, halo_term_of_band, measure_standard_frame, raw_peak
from astropipe.calibrate.transformation import fit_transformation, normalise_measurements
from astropipe.io.raw_frames import open_raw_frame
from astropipe.io.rule_log import Progress
from astropipe.reduce.calibration import calibrate_frame
from astropipe.reduce.cosmic_rays import DetectorNoise
from astropipe.reduce.masters import load_masters

__all__ = ["EQUATIONS", "fit_night", "measure_standards"]

EQUATIONS = (
    "m' = m_ap + 2.5 log10(DIT) - K X; H - h' = a_H (H-K) + z_H; K - k' = a_K (H-K) + z_K (Dutra et al. 2003, eqs. 1-3)"
)


def measure_standards(
    frames: Table,
    masters: str,
    catalogue: Table,
    apertures: StandardApertures,
    gain: float,
    linearity: list[float],
    detector: DetectorNoise,
    *,
    crosstalk: float = 0.0,
    frames_path: str = "frames",
    log: logging.Logger | None = None,
) -> Table:
    """Aperture photometry of every standard-star (``type`` STD) frame of the night.

    Parameters
    ----------
    frames : astropy.table.Table
        The night's frame list (``path``, ``type``, ``object``, ``filter``, ``airmass``, ``dit``).
    masters : str
        Directory of the night's master calibrations.
    catalogue : astropy.table.Table
        The standard-star catalogue (Persson et al. 1998).
    apertures : StandardApertures
        Aperture, sky annulus and search box of the standards' system.
    gain : float
        e-/ADU.
    linearity : list of float
        Linearity-correction polynomial coefficients (empty: none).
    detector : DetectorNoise
        Read noise and gain for the cosmic-ray removal.
    crosstalk : float
        Row cross-talk coefficient (:mod:`astropipe.reduce.crosstalk`; 0: none).
    frames_path : str
        Named when the night has no standard frame.
    log : logging.Logger, optional

    Returns
    -------
    astropy.table.Table
        One row per frame: ``path``, ``standard``, ``identified_by``, ``target``, ``filter``, ``airmass``,
        ``dit``, the measurement of :func:`astropipe.calibrate.standards.measure_standard_frame`, the highest raw
        value in the aperture ``raw_peak_adu`` and ``saturated`` (at or above ``detector.saturation``; such a
        frame is kept in the table, named in the log and left out by :func:`fit_night`).
    """
    log = log or logging.getLogger(__name__)
    frames = frames[frames["type"] == "STD"]
    if len(frames) == 0:
        raise ValueError(f"{frames_path}: no standard-star (STD) frames in the night")
    rows = []
    progress = Progress(log, "standard frames", len(frames))
    for done, frame in enumerate(frames, start=1):
        dark, flat, bad = load_masters(masters, float(frame["dit"]), str(frame["filter"]))
        with open_raw_frame(frame["path"]) as hdul:
            header = hdul[0].header
            pointing = SkyCoord(header["RA"], header["DEC"], unit="deg")
            star = identify_standard(str(frame["object"]), pointing, catalogue, frame=str(frame["path"]))
            match = catalogue[catalogue["number"] == star.number]
            position = SkyCoord(match["ra"][0], match["dec"][0], unit=("hourangle", "deg"))
            data = calibrate_frame(hdul[0].data.astype(float), dark, flat, bad, linearity, crosstalk)
            measured = measure_standard_frame(
                data, header, position, apertures, gain, str(frame["path"]), cosmic_rays=detector
            )
            log.info("%s: %d pixels hit by cosmic rays replaced", frame["path"], measured["cosmic_ray_pixels"])
            peak = raw_peak(np.asarray(hdul[0].data, float), measured["x"], measured["y"], measured["aperture_px"])
        saturated = peak >= detector.saturation
        if saturated:
            log.warning(
                "%s: standard %s peaks at %.0f ADU, at or above the saturation level %.0f "
                "(imaging.reduction.saturation_adu): left out of the fit and the halo term",
                frame["path"],
                star.number,
                peak,
                detector.saturation,
            )
        rows.append(
            {
                "path": str(frame["path"]),
                "standard": star.number,
                "identified_by": star.identified_by,
                "target": str(frame["object"]),
                "filter": str(frame["filter"]),
                "airmass": float(frame["airmass"]),
                "dit": float(frame["dit"]),
                **measured,
                "raw_peak_adu": peak,
                "saturated": saturated,
            }
        )
        progress.update(done)
    return Table(rows=rows)


def fit_night(
    measurements: Table, catalogue: Table, settings: dict, log: logging.Logger | None = None
) -> tuple[Table, dict]:
    """Normalised measurements (eq. 1) and the fitted transformation of each band (eqs. 2-3).

    ``settings`` is ``imaging.calibration``. Ks is calibrated onto the catalogue's K: its entry carries the
    Ks -> K error (``ks_to_k_err``), and ``total_err_mag`` is the fit's rms with that term in quadrature.
    Every band's entry also holds the halo term of the fields' aperture corrections
    (:func:`astropipe.calibrate.standards.halo_term_of_band`). Saturated frames (``saturated``) are left out;
    all of them saturated is an error.
    """
    log = log or logging.getLogger(__name__)
    saturated = np.asarray(measurements["saturated"], bool)
    if saturated.all():
        raise ValueError(
            f"all {saturated.size} standard frames peak at or above the saturation level "
            "(imaging.reduction.saturation_adu; standards.ecsv column raw_peak_adu): no standard to calibrate with"
        )
    if saturated.any():
        log.warning("%d of %d standard frames saturated: left out of the fits", saturated.sum(), saturated.size)
    measurements = measurements[~saturated]
    normalised = normalise_measurements(measurements, settings["extinction"])
    fits_by_band = {}
    for band in sorted(set(normalised["filter"])):
        fitted = fit_transformation(
            normalised,
            catalogue,
            band,
            settings["extinction"][band],
            fit_extinction=settings["fit_extinction"],
            min_standards=settings["min_standards"],
            min_points=settings["min_points"],
            min_airmass_span=settings["min_airmass_span"],
            colour_term_prior=settings["colour_term_prior"].get(band),
        )
        log.info(
            "%s: a = %.4f +- %.4f, z = %.4f +- %.4f, rms %.4f mag (%d points, %d standards)",
            band,
            fitted.colour_term,
            fitted.colour_term_err,
            fitted.zero_point,
            fitted.zero_point_err,
            fitted.rms,
            fitted.n_points,
            fitted.n_standards,
        )
        fits_by_band[band] = fitted.as_dict() | halo_term_of_band(measurements, band)
        log.info(
            "%s: halo term of the aperture correction %.4f +- %.4f mag (%d frames)",
            band,
            fits_by_band[band]["halo_term_mag"],
            fits_by_band[band]["halo_term_err_mag"],
            fits_by_band[band]["halo_term_frames"],
        )
        if band == "Ks":
            fits_by_band[band]["ks_to_k_err_mag"] = settings["ks_to_k_err"]
            fits_by_band[band]["calibrated_to"] = "K (Persson et al. 1998)"
        fits_by_band[band]["total_err_mag"] = float(
            np.hypot(fitted.rms, settings["ks_to_k_err"] if band == "Ks" else 0.0)
        )
    return normalised, fits_by_band
