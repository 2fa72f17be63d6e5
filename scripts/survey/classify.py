"""Objective classes of all candidate fields, the confusion matrix against the truth, and Fig. 5."""

import json
from pathlib import Path

from astropy.table import Table

from astropipe.io import atomic_output, write_json, write_table
from astropipe.io.report_tables import classification_table
from astropipe.io.rule_log import rule_logger
from astropipe.survey.classify import classify_fields
from astropipe.survey.figures import confusion_figure, sky_map_figure

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "survey_classify")
labels = Table.read(snakemake.input.labels, format="ascii.ecsv") if snakemake.input.labels else None
table, summary, matrix = classify_fields(
    [json.loads(Path(path).read_text()) for path in snakemake.input.metrics], snakemake.params.thresholds, labels, log
)
write_table(table, snakemake.output.classification, format="ascii.ecsv")
write_json(summary, snakemake.output.summary)
write_table(classification_table(table), snakemake.output.table, format="ascii.csv")
with atomic_output(snakemake.output.sky_map) as path:
    sky_map_figure(table).savefig(path, dpi=120)
with atomic_output(snakemake.output.confusion) as path:
    confusion_figure(matrix, summary["counts"]).savefig(path, dpi=120)
