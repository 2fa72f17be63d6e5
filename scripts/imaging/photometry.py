"""PSF photometry of one image (a stack of the night, or an image reduced elsewhere): catalogue, ePSF, residual."""

import numpy as np
from astropy.io import fits

from astropipe.io import atomic_output, write_table
from astropipe.io.rule_log import rule_logger
from astropipe.photometry.image_input import read_photometry_image
from astropipe.photometry.pipeline import psf_photometry
from astropipe.photometry.psf_file import write_psf_file
from astropipe.photometry.settings import PhotometrySettings

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], snakemake.rule)
config = snakemake.params.photometry
image_settings = snakemake.params.image
image = read_photometry_image(
    snakemake.input.image,
    snakemake.input.get("weight"),
    gain=image_settings.get("gain"),
    saturation=image_settings.get("saturation"),
)
result = psf_photometry(
    image.data,
    fwhm_guess=image_settings.get("fwhm_arcsec", config["fwhm_guess_arcsec"]) / image.pixel_scale,
    pixel_scale=image.pixel_scale,
    saturation=image.saturation,
    exposure=image.exposure,
    gain=image.gain,
    wcs=image.wcs,
    settings=PhotometrySettings.from_config(config),
    log=log,
)
result.catalog.meta.update(
    {
        **dict(snakemake.wildcards),
        **{k: v for k, v in image_settings.items() if k == "filter"},
        "airmass": float(image.header.get("AIRMASS", np.nan)),
        "image": snakemake.input.image,
    }
)
write_table(result.catalog, snakemake.output.catalog, format="ascii.ecsv")
write_psf_file(snakemake.output.psf, result.psfs, config["psf_oversampling"], result.meta["fwhm_px"])
with atomic_output(snakemake.output.residual) as path:
    fits.PrimaryHDU(result.residual.astype(np.float32), header=image.header).writeto(path)
