"""Configuration, validation and helpers shared by every branch."""

from pathlib import Path

from snakemake.utils import min_version, validate

from astropipe.config_check import check_config

min_version("9.0")


configfile: "config.yaml"


check_config(config, Path(workflow.basedir) / "schemas" / "config.schema.yaml")
validate(config, "../schemas/config.schema.yaml", set_default=True)

LENSING = config["lensing"]
LENSING_CHUNKS = [f"{i:03d}" for i in range(LENSING["chunks"])]
LENSING_FIGURES = [
    "joshi_fig1a_classical_vs_relativistic",
    "joshi_fig1b_light_vs_massive",
    "deflection_vs_impact_parameter",
    "time_delay",
    "cross_section",
]


wildcard_constraints:
    chunk=r"\d{3}",


def lensing_targets():
    """Final lensing outputs: the grid, the summary and the figures."""
    return [
        "results/lensing/grid.ecsv",
        "results/lensing/summary.json",
        *expand(
            "results/figures/lensing/{figure}.png",
            figure=LENSING_FIGURES,
        ),
    ]
