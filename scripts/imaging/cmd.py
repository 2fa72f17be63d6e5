"""CMD analysis of one field: regions and areas, colour sequences, luminosity functions (Dutra et al. 2003, Figs. 7-8)."""

import json
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from astropipe.cmd.analysis import ReferenceStars, analyse_cmd
from astropipe.cmd.figures import cmd_figure, luminosity_figure
from astropipe.cmd.regions import define_regions, usable_mask
from astropipe.io import atomic_output, write_json, write_table
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_cmd")
settings, inputs = snakemake.params.cmd, snakemake.input
header_k = fits.getheader(inputs.weight_k)
wcs_k, wcs_h = WCS(header_k).celestial, WCS(fits.getheader(inputs.weight_h)).celestial
usable = usable_mask(
    fits.getdata(inputs.weight_k).astype(float),
    fits.getdata(inputs.weight_h).astype(float),
    wcs_k,
    wcs_h,
    settings["min_coverage"],
)
l_deg, b_deg = snakemake.params.centre
regions = define_regions(
    usable,
    wcs_k,
    SkyCoord(l=l_deg, b=b_deg, unit="deg", frame="galactic"),
    float(header_k["PIXSCALE"]),
    settings["object_radius_arcsec"],
    settings["field_inner_radius_arcsec"],
)
reference = None
if settings["saturated_from_reference"]:
    reference = ReferenceStars(
        Table.read(inputs.reference, format="ascii.ecsv"),
        json.loads(Path(inputs.comparison).read_text())["bands"],
        snakemake.params.reference["resolution_arcsec"],
    )
analysis = analyse_cmd(
    Table.read(inputs.catalog, format="ascii.ecsv"),
    regions,
    wcs_k,
    {
        "H": Table.read(inputs.completeness_h, format="ascii.ecsv"),
        "Ks": Table.read(inputs.completeness_k, format="ascii.ecsv"),
    },
    settings,
    snakemake.params.seed,
    reference=reference,
    completeness_paths={"H": inputs.completeness_h, "Ks": inputs.completeness_k},
    log=log,
)
write_table(analysis.stars, snakemake.output.stars, format="ascii.ecsv")
write_table(analysis.luminosity, snakemake.output.luminosity, format="ascii.ecsv")
centre = {"l_deg": l_deg, "b_deg": b_deg, "x_px": regions.centre_x, "y_px": regions.centre_y}
write_json({"field": snakemake.wildcards.field, "centre": centre, **analysis.summary}, snakemake.output.summary)
bins = np.arange(-0.5, 3.0 + 1e-9, settings["colour_bin_mag"])
with atomic_output(snakemake.output.fig_cmd) as path:
    cmd_figure(analysis.stars, analysis.sequences, bins).savefig(path, dpi=110)
with atomic_output(snakemake.output.fig_lf) as path:
    luminosity_figure(analysis.luminosity, analysis.intervals).savefig(path, dpi=110)
