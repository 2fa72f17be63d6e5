"""Foreground and cluster reddening, tenth-brightest-star distances and the MS overlay (Dutra et al. 2003 §3.3, Fig. 10)."""

import json
from pathlib import Path

from astropy.table import Table

from astropipe.cmd.figures import main_sequence_figure
from astropipe.distance.object_distance import main_sequence_overlay, measure_distance
from astropipe.io import atomic_output, write_json, write_table
from astropipe.io.report_tables import distance_table
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_distance")
settings, inputs = snakemake.params.distance, snakemake.input
membership = Table.read(inputs.membership, format="ascii.ecsv")
measured = measure_distance(
    Table.read(inputs.stars, format="ascii.ecsv"),
    membership,
    json.loads(Path(inputs.cmd_summary).read_text()),
    json.loads(Path(inputs.decontamination).read_text()),
    settings,
    snakemake.params.law,
    membership_path=inputs.membership,
    log=log,
)
summary = {"field": snakemake.wildcards.field, "night": snakemake.wildcards.night, **measured}
write_json(summary, snakemake.output.summary)
write_table(distance_table(summary), snakemake.output.table, format="ascii.csv")

# Fig. 10: the reddened main sequence of the preferred hypothesis
distances = summary["distance_kpc"]
preferred = settings["overlay_hypothesis"] if settings["overlay_hypothesis"] in distances else next(iter(distances))
sequence = main_sequence_overlay(
    Path(inputs.dwarfs).parent, distances[preferred]["distance_modulus"], summary["a_k"], summary["e_hk"]
)
with atomic_output(snakemake.output.figure) as path:
    main_sequence_figure(membership, membership.meta["member_probability"], sequence, summary, preferred).savefig(
        path, dpi=110
    )
