"""Standard-star aperture photometry and the transformation fit of the night (Dutra et al. 2003, eqs. 1-3)."""

from astropy.table import Table

from astropipe.calibrate.night_standards import EQUATIONS, fit_night, measure_standards
from astropipe.calibrate.persson_catalogue import read_persson_standards
from astropipe.calibrate.standards import StandardApertures
from astropipe.io import write_json, write_table
from astropipe.io.report_tables import calibration_table
from astropipe.io.rule_log import rule_logger
from astropipe.reduce.cosmic_rays import DetectorNoise

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_standards")
settings, params = snakemake.params.calibration, snakemake.params
catalogue_path = snakemake.input.standards_catalogue
catalogue = read_persson_standards(catalogue_path)
apertures = StandardApertures(**settings["aperture"])
measurements = measure_standards(
    Table.read(snakemake.input.frames, format="ascii.ecsv"),
    snakemake.input.masters,
    catalogue,
    apertures,
    params.gain,
    params.linearity,
    DetectorNoise(**params.detector),
    crosstalk=params.crosstalk,
    frames_path=snakemake.input.frames,
    log=log,
)
normalised, fits_by_band = fit_night(measurements, catalogue, settings, log)
write_table(measurements, snakemake.output.measurements, format="ascii.ecsv")
calibration = {
    "night": snakemake.wildcards.night,
    "equations": EQUATIONS,
    "aperture_radius_arcsec": apertures.radius_arcsec,
    "standards_catalogue": str(catalogue_path),
    "bands": fits_by_band,
    "points": normalised.to_pandas().to_dict(orient="records"),
}
write_json(calibration, snakemake.output.calibration)
write_table(calibration_table(calibration), snakemake.output.table, format="ascii.csv")
