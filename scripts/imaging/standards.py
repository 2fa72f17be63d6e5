"""Standard-star aperture photometry and the transformation fit of the night (Dutra et al. 2003, eqs. 1-3)."""

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astropipe.calibrate.persson_catalogue import identify_standard, read_persson_standards
from astropipe.calibrate.standards import (
    StandardApertures,
    fit_transformation,
    measure_standard_frame,
    normalise_measurements,
)
from astropipe.io import write_json, write_table
from astropipe.io.raw_frames import open_raw_frame
from astropipe.io.report_tables import calibration_table
from astropipe.io.rule_log import Progress, rule_logger
from astropipe.reduce.calibration import calibrate_frame
from astropipe.reduce.cosmic_rays import DetectorNoise
from astropipe.reduce.masters import load_masters

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_standards")
settings = snakemake.params.calibration
catalogue_path = snakemake.input.standards_catalogue
catalogue = read_persson_standards(catalogue_path)
frames = Table.read(snakemake.input.frames, format="ascii.ecsv")
frames = frames[frames["type"] == "STD"]
if len(frames) == 0:
    raise ValueError(f"{snakemake.input.frames}: no standard-star (STD) frames in the night")
apertures = StandardApertures(**settings["aperture"])
detector = DetectorNoise(**snakemake.params.detector)
rows = []
progress = Progress(log, "standard frames", len(frames))
for done, frame in enumerate(frames, start=1):
    dark, flat, bad = load_masters(snakemake.input.masters, float(frame["dit"]), str(frame["filter"]))
    with open_raw_frame(frame["path"]) as hdul:
        header = hdul[0].header
        pointing = SkyCoord(header["RA"], header["DEC"], unit="deg")
        star = identify_standard(str(frame["object"]), pointing, catalogue, frame=str(frame["path"]))
        match = catalogue[catalogue["number"] == star.number]
        position = SkyCoord(match["ra"][0], match["dec"][0], unit=("hourangle", "deg"))
        data = calibrate_frame(hdul[0].data.astype(float), dark, flat, bad, snakemake.params.linearity)
        measured = measure_standard_frame(data, header, position, apertures, snakemake.params.gain, str(frame["path"]),
                                          cosmic_rays=detector)  # fmt: skip
        log.info("%s: %d pixels hit by cosmic rays replaced", frame["path"], measured["cosmic_ray_pixels"])
    rows.append({"path": str(frame["path"]), "standard": star.number, "identified_by": star.identified_by,
                 "target": str(frame["object"]), "filter": str(frame["filter"]),
                 "airmass": float(frame["airmass"]), "dit": float(frame["dit"]), **measured})  # fmt: skip
    progress.update(done)
measurements = Table(rows=rows)
normalised = normalise_measurements(measurements, settings["extinction"])
fits_by_band = {}
for band in sorted(set(normalised["filter"])):
    fitted = fit_transformation(
        normalised, catalogue, band, settings["extinction"][band], fit_extinction=settings["fit_extinction"],
        min_standards=settings["min_standards"], min_points=settings["min_points"],
        min_airmass_span=settings["min_airmass_span"], colour_term_prior=settings["colour_term_prior"].get(band),
    )  # fmt: skip
    log.info("%s: a = %.4f +- %.4f, z = %.4f +- %.4f, rms %.4f mag (%d points, %d standards)", band,
             fitted.colour_term, fitted.colour_term_err, fitted.zero_point, fitted.zero_point_err,
             fitted.rms, fitted.n_points, fitted.n_standards)  # fmt: skip
    fits_by_band[band] = fitted.as_dict()
    if band == "Ks":
        fits_by_band[band]["ks_to_k_err_mag"] = settings["ks_to_k_err"]
        fits_by_band[band]["calibrated_to"] = "K (Persson et al. 1998)"
    fits_by_band[band]["total_err_mag"] = float(np.hypot(fitted.rms, settings["ks_to_k_err"] if band == "Ks" else 0.0))
write_table(measurements, snakemake.output.measurements, format="ascii.ecsv")
calibration = {"night": snakemake.wildcards.night, "equations": "m' = m_ap + 2.5 log10(DIT) - K X; "
            "H - h' = a_H (H-K) + z_H; K - k' = a_K (H-K) + z_K (Dutra et al. 2003, eqs. 1-3)",
            "aperture_radius_arcsec": apertures.radius_arcsec, "standards_catalogue": str(catalogue_path),
            "bands": fits_by_band, "points": normalised.to_pandas().to_dict(orient="records")}  # fmt: skip
write_json(calibration, snakemake.output.calibration)
write_table(calibration_table(calibration), snakemake.output.table, format="ascii.csv")
