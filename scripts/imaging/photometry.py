"""PSF photometry of one stack: catalogue, ePSF and residual image."""

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from astropipe.io import atomic_output, write_table
from astropipe.io.rule_log import rule_logger
from astropipe.photometry.pipeline import PhotometrySettings, psf_photometry
from astropipe.photometry.psf_file import write_psf_file

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_photometry")
config = snakemake.params.photometry
with fits.open(snakemake.input.stack) as hdul:
    image, header = hdul[0].data.astype(float), hdul[0].header
exposure = fits.getdata(snakemake.input.weight).astype(float)
scale = float(header["PIXSCALE"])
result = psf_photometry(
    image,
    fwhm_guess=config["fwhm_guess_arcsec"] / scale,
    pixel_scale=scale,
    saturation=float(header.get("SATURATE", np.inf)),
    exposure=exposure,
    gain=float(header["GAIN"]) if "GAIN" in header else None,
    wcs=WCS(header).celestial,
    settings=PhotometrySettings.from_config(config),
    log=log,
)
result.catalog.meta.update({"field": snakemake.wildcards.field, "filter": snakemake.wildcards.filter,
                            "airmass": float(header.get("AIRMASS", np.nan)), "stack": snakemake.input.stack})  # fmt: skip
write_table(result.catalog, snakemake.output.catalog, format="ascii.ecsv")
write_psf_file(snakemake.output.psf, result.psfs, config["psf_oversampling"], result.meta["fwhm_px"])
with atomic_output(snakemake.output.residual) as path:
    fits.PrimaryHDU(result.residual.astype(np.float32), header=header).writeto(path)
