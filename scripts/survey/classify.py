"""Objective classes of all candidate fields, the confusion matrix against the truth, and Fig. 5."""

import json
from pathlib import Path

import numpy as np
from astropy.table import Table

from astropipe.io import atomic_output, write_json, write_table
from astropipe.io.report_tables import classification_table
from astropipe.io.rule_log import rule_logger
from astropipe.survey.classify import classify, confusion_matrix
from astropipe.survey.figures import confusion_figure, sky_map_figure

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "survey_classify")
rows = []
for path in snakemake.input.metrics:
    metrics = json.loads(Path(path).read_text())
    name, evidence = classify(metrics, snakemake.params.thresholds)
    rows.append({"field": metrics["field"], "l": metrics["l"], "b": metrics["b"], "class": name,
                 "overdensity_sigma": metrics["overdensity_significance"],
                 "faint_overdensity_sigma": metrics["faint_overdensity_significance"],
                 "bright_excess": metrics["bright_excess"], "light_concentration_p": metrics["light_concentration_p"],
                 "ring_density_ratio": metrics["count_ratio_ring"], "count_deficit_sigma": metrics["count_deficit_sigma"],
                 "nebulosity_snr": metrics["nebulosity_snr"], "king_core_arcsec": metrics["king"]["core_radius"],
                 "evidence": evidence})  # fmt: skip
    log.info("%s: %s (%s)", metrics["field"], name, evidence)
table = Table(rows=rows)
table["l"].unit = table["b"].unit = "deg"
table["king_core_arcsec"].unit = "arcsec"
summary = {"n_fields": len(table), "thresholds": snakemake.params.thresholds,
           "counts": {c: int(np.sum(table["class"] == c)) for c in sorted(set(table["class"]))}}  # fmt: skip
matrix = None
if snakemake.input.labels:
    labels = Table.read(snakemake.input.labels, format="ascii.ecsv")
    truth = dict(zip(labels["field"], labels["class"], strict=True))
    table["true_class"] = [truth[f] for f in table["field"]]
    matrix = confusion_matrix(list(table["true_class"]), list(table["class"]))
    agreement = float(np.mean(table["true_class"] == table["class"]))
    summary.update({"agreement": agreement, "confusion_matrix": {r["true_class"]: {c: int(r[c]) for c in matrix.colnames[1:]}
                                                                for r in matrix}})  # fmt: skip
    log.info("agreement with the truth: %.0f %% of %d fields", 100 * agreement, len(table))
write_table(table, snakemake.output.classification, format="ascii.ecsv")
write_json(summary, snakemake.output.summary)
write_table(classification_table(table), snakemake.output.table, format="ascii.csv")
with atomic_output(snakemake.output.sky_map) as path:
    sky_map_figure(table).savefig(path, dpi=120)
with atomic_output(snakemake.output.confusion) as path:
    confusion_figure(matrix, summary["counts"]).savefig(path, dpi=120)
