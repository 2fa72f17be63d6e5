"""Statistical decontamination of the object CMD by the field CMD (Dutra et al. 2003, §3.3, Fig. 9), and the mixture-model membership."""

import json
from pathlib import Path

from astropy.table import Table

from astropipe.cmd.figures import decontamination_figure
from astropipe.cmd.membership import measure_membership
from astropipe.io import atomic_output, write_json, write_table
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_decontaminate")
stars = Table.read(snakemake.input.stars, format="ascii.ecsv")
inputs = snakemake.input
membership = measure_membership(
    stars,
    json.loads(Path(inputs.summary).read_text()),
    (Table.read(inputs.artificial_h, format="ascii.ecsv"), Table.read(inputs.artificial_k, format="ascii.ecsv")),
    (Table.read(inputs.completeness_h, format="ascii.ecsv"), Table.read(inputs.completeness_k, format="ascii.ecsv")),
    snakemake.params.decontamination,
    snakemake.params.seed,
    ak_per_ehk=snakemake.params.ak_per_ehk,
    stars_path=inputs.stars,
    artificial_paths=(inputs.artificial_h, inputs.artificial_k),
    log=log,
)
write_table(membership.stars, snakemake.output.membership, format="ascii.ecsv")
write_json({"field": snakemake.wildcards.field, **membership.summary}, snakemake.output.summary)
with atomic_output(snakemake.output.figure) as path:
    decontamination_figure(membership.stars, membership.field, membership.stars.meta["member_probability"]).savefig(
        path, dpi=110
    )
