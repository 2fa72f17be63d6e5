"""Write results/lensing/summary.json: characteristic values and physical examples."""

from astropipe.io import write_json
from astropipe.io.rule_log import rule_logger
from astropipe.lensing.summary import characteristic_values, physical_example

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "lensing_summary")
summary = {
    "units": "lengths in units of M = G M / c^2 unless the key says km; angles in arcsec",
    "speeds": [characteristic_values(v) for v in snakemake.params.speeds],
    "examples": [physical_example(example) for example in snakemake.params.examples],
}
for example in summary["examples"]:
    log.info("%s: alpha = %.6g arcsec", example["name"], example["alpha_exact_arcsec"])
write_json(summary, snakemake.output[0])
