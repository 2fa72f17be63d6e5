"""Reduce one dithered sequence (night, field, filter) into a stack, exposure map and offsets."""

import numpy as np
from astropy.io import fits
from astropy.table import Table

from astropipe.io import atomic_output, write_json, write_table
from astropipe.io.rule_log import rule_logger
from astropipe.reduce.astrometry import AstrometrySettings, solve_stack_astrometry
from astropipe.reduce.masters import load_masters
from astropipe.reduce.sequence import reduce_sequence

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_reduce")
field, band = snakemake.wildcards.field, snakemake.wildcards.filter
frames = Table.read(snakemake.input.frames, format="ascii.ecsv")
science = frames[frames["type"] == "OBJECT"]
sequence = science[(science["field"] == field) & (science["filter"] == band)]
if len(sequence) == 0:
    present = sorted({(str(r["field"]), str(r["object"]), str(r["filter"])) for r in science})
    raise ValueError(
        f"{snakemake.input.frames}: no OBJECT frames of field {field!r} in filter {band!r}; the night has "
        + ", ".join(f"{f} (target {o!r}) in {b}" for f, o, b in present)
        + ". Name a target's field with imaging.field_names"
    )
settings = snakemake.params.reduction
dark, flat, bad = load_masters(snakemake.input.masters, float(sequence["dit"][0]), band)
result = reduce_sequence(
    sequence,
    dark,
    flat,
    bad,
    sky_window=settings["sky_window"],
    mask_nsigma=settings["mask_nsigma"],
    mask_grow=settings["mask_grow"],
    combine_sigma=settings["combine_sigma"],
    search=settings["search_px"],
    saturation_adu=settings["saturation_adu"],
    gain=settings["gain"],
    linearity=settings["linearity_coefficients"],
    crosstalk=settings["row_crosstalk"],
    frame_scaling=settings["frame_scaling"],
    fwhm_guess_arcsec=snakemake.params.astrometry["fwhm_arcsec"],
    log=log,
)
reference = Table.read(snakemake.input.reference)
header, solution = solve_stack_astrometry(
    result.image,
    result.header,
    reference,
    AstrometrySettings(**snakemake.params.astrometry),
    source=snakemake.input.reference,
)
log.info(
    "astrometry: %d stars matched, rms %.3f arcsec; the header WCS was %.2f, %.2f arcsec (E, N) and %.3f deg off",
    solution.n_matched,
    solution.rms_arcsec,
    solution.header_error_east_arcsec,
    solution.header_error_north_arcsec,
    solution.header_rotation_error_deg,
)
write_json({"reference": snakemake.input.reference, **solution.as_dict()}, snakemake.output.astrometry)
with atomic_output(snakemake.output.stack) as path:
    fits.PrimaryHDU(result.image.astype(np.float32), header=header).writeto(path)
weight_header = header.copy()
weight_header["BUNIT"] = "s"
weight_header["COMMENT"] = "exposure time per pixel (frames used x DIT x NDIT)"
with atomic_output(snakemake.output.weight) as path:
    fits.PrimaryHDU(result.exposure.astype(np.float32), header=weight_header).writeto(path)
write_table(result.offsets, snakemake.output.offsets, format="ascii.ecsv")
