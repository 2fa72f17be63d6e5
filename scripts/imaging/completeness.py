"""Artificial-star tests of one stack: completeness and bias/scatter per magnitude bin."""


import numpy as np
from astropy.io import fits
from astropy.table import Table

from astropipe.io import write_table
from astropipe.io.rule_log import Progress, rule_logger
from astropipe.photometry.artificial_stars import completeness_limit, completeness_table, inject_and_recover
from astropipe.photometry.pipeline import PhotometrySettings, psf_photometry
from astropipe.photometry.psf_file import read_psf_file
from astropipe.random_streams import random_stream

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_completeness")
config = snakemake.params.photometry
ast = config["artificial_stars"]
with fits.open(snakemake.input.stack) as hdul:
    image, header = hdul[0].data.astype(float), hdul[0].header
exposure = fits.getdata(snakemake.input.weight).astype(float)
psfs = read_psf_file(snakemake.input.psf)
catalog = Table.read(snakemake.input.catalog, format="ascii.ecsv")
scale, gain = float(header["PIXSCALE"]), float(header["GAIN"])
settings = PhotometrySettings.from_config(config)


progress = Progress(log, "artificial-star rounds", ast["rounds"])
rounds_done = [0]


def measure(data):
    measured = psf_photometry(data, fwhm_guess=config["fwhm_guess_arcsec"] / scale, pixel_scale=scale,
                              saturation=float(header["SATURATE"]), exposure=exposure, gain=gain,
                              settings=settings, psfs=psfs).catalog  # fmt: skip
    rounds_done[0] += 1
    progress.update(rounds_done[0])
    return measured


magnitudes = np.asarray(catalog["mag_inst"], float)
magnitudes = magnitudes[np.isfinite(magnitudes)]
magnitude_range = (float(np.percentile(magnitudes, 5)), float(np.percentile(magnitudes, 99)) + 1.0)
per_round = max(ast["minimum_per_round"], int(ast["fraction"] * len(catalog)))
tag = f"{snakemake.wildcards.field}/{snakemake.wildcards.filter}"
rng = random_stream(snakemake.params.seed, tag)
injected = inject_and_recover(image, psfs.final, measure, per_round, magnitude_range, ast["rounds"], rng, gain=gain, log=log)
table = completeness_table(injected, ast["bin_width_mag"])
table.meta["mag50_inst"] = completeness_limit(table, 0.5)
table.meta["description"] = "artificial-star completeness and photometric bias (instrumental magnitudes)"
log.info("50%% completeness at instrumental magnitude %.2f", table.meta["mag50_inst"])
write_table(table, snakemake.output.completeness, format="ascii.ecsv")
write_table(injected, snakemake.output.injected, format="ascii.ecsv")
