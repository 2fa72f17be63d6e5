"""Validate a user's FP survey tables (astropipe.flow.input_tables) and write them in the analysis' form."""

from astropipe.flow.input_tables import InputTableError, read_survey
from astropipe.io import write_table
from astropipe.io.rule_log import rule_logger

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "flow_import_survey")
directory = snakemake.params.directory
clusters, galaxies, dispersions = read_survey(directory)
column = f"extinction_{snakemake.params.extinction_map}"
if column not in clusters.colnames:
    raise InputTableError(
        f"{directory}/clusters: column {column!r} is missing, and flow.extinction_map is "
        f"{snakemake.params.extinction_map!r}; add the column or choose the map the table has"
    )
for name, table in (("clusters", clusters), ("galaxies", galaxies), ("dispersions", dispersions)):
    write_table(table, snakemake.output[name], format="ascii.ecsv")
log.info(
    "%s: %d clusters, %d galaxies, %d dispersion measurements in %d runs",
    directory,
    len(clusters),
    len(galaxies),
    len(dispersions),
    len(set(dispersions["run"])),
)
