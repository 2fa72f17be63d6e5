"""Artificial-star tests of one stack: completeness and bias/scatter per magnitude bin."""

from astropy.io import fits
from astropy.table import Table

from astropipe.io import write_table
from astropipe.io.rule_log import rule_logger
from astropipe.photometry.completeness_test import artificial_star_test
from astropipe.photometry.psf_file import read_psf_file
from astropipe.random_streams import random_stream

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_completeness")
with fits.open(snakemake.input.stack) as hdul:
    image, header = hdul[0].data.astype(float), hdul[0].header
completeness, injected = artificial_star_test(
    image,
    header,
    fits.getdata(snakemake.input.weight).astype(float),
    read_psf_file(snakemake.input.psf),
    Table.read(snakemake.input.catalog, format="ascii.ecsv"),
    snakemake.params.photometry,
    random_stream(snakemake.params.seed, f"{snakemake.wildcards.field}/{snakemake.wildcards.filter}"),
    log=log,
)
write_table(completeness, snakemake.output.completeness, format="ascii.ecsv")
write_table(injected, snakemake.output.injected, format="ascii.ecsv")
