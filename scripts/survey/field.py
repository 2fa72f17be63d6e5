"""Density profile, overdensity, gas/dust indicators and thumbnail of one candidate field (Dutra et al. 2003, §2)."""

import json
from pathlib import Path

from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from astropipe.io import atomic_output, write_json
from astropipe.io.rule_log import rule_logger
from astropipe.random_streams import random_stream
from astropipe.survey.field_metrics import measure_field
from astropipe.survey.figures import thumbnail_figure

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "survey_field")
field = snakemake.wildcards.field
candidates = Table.read(snakemake.input.candidates, format="ascii.ecsv")
row = candidates[candidates["field"] == field]
if len(row) != 1:
    raise ValueError(f"{snakemake.input.candidates}: field {field!r} listed {len(row)} times (expected once)")
image, header = fits.getdata(snakemake.input.stack).astype(float), fits.getheader(snakemake.input.stack)
scale = float(header["PIXSCALE"])
l_deg, b_deg = float(row["l"][0]), float(row["b"][0])
centre = WCS(header).celestial.world_to_pixel(SkyCoord(l=l_deg, b=b_deg, unit="deg", frame="galactic"))
cx, cy = (float(v) for v in centre)
metrics = measure_field(
    image,
    fits.getdata(snakemake.input.weight).astype(float),
    Table.read(snakemake.input.catalog, format="ascii.ecsv"),
    (cx, cy),
    scale,
    json.loads(Path(snakemake.input.calibration).read_text())["bands"][snakemake.params.band],
    snakemake.params.survey,
    random_stream(snakemake.params.seed, "survey/field", field),
)
log.info(
    "%s: %d stars to K = %.1f, overdensity %.1f sigma (faint %.1f), bright excess %.1f, light p %.3f, "
    "ring deficit %.1f sigma (ratio %.2f), nebulosity %.2f",
    field,
    metrics.n_stars,
    metrics.magnitude_limit,
    metrics.overdensity.significance,
    metrics.faint_overdensity.significance,
    metrics.bright_excess,
    metrics.light_concentration_p,
    metrics.count_deficit_sigma,
    metrics.count_ratio_ring,
    metrics.nebulosity_snr,
)
write_json(
    {"field": field, "l": l_deg, "b": b_deg, "centre_px": [cx, cy], **metrics.as_dict()}, snakemake.output.metrics
)
with atomic_output(snakemake.output.thumbnail) as path:
    title = f"{field} (l = {l_deg:.2f}, b = {b_deg:.2f})"
    thumbnail_figure(image, (cx, cy), scale, metrics.profile, metrics.king, title).savefig(path, dpi=100)
