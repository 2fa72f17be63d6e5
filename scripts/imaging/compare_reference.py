"""Comparison of the calibrated catalogue with the 2MASS-like reference (Dutra et al. 2003, §3.2, Fig. 6)."""

from astropy.table import Table

from astropipe.calibrate.figures import reference_comparison_figure
from astropipe.calibrate.reference_comparison import compare_with_reference
from astropipe.io import atomic_output, write_json
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_compare_reference")
results, panels = compare_with_reference(
    Table.read(snakemake.input.catalog, format="ascii.ecsv"),
    Table.read(snakemake.input.reference, format="ascii.ecsv"),
    snakemake.params.reference,
    reference_path=snakemake.input.reference,
    log=log,
)
write_json(
    {
        "field": snakemake.wildcards.field,
        "reference": snakemake.input.reference,
        "relation": "m_ref - m = offset + slope (m - pivot), 3-sigma clipped",
        "bands": results,
    },
    snakemake.output.comparison,
)
with atomic_output(snakemake.output.figure) as path:
    reference_comparison_figure(panels).savefig(path, dpi=120)
