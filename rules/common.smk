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


IMAGING = config["imaging"]
NIGHT = IMAGING["night"]
# what defines the simulated night: reduction and photometry settings must not re-trigger it
SIMULATION = {
    key: IMAGING[key]
    for key in (
        "night",
        "seed",
        "reference_dir",
        "extinction_law_ak_per_ehk",
        "object",
        "survey",
        "standards",
        "simulation",
    )
}
_reference = Path(IMAGING["reference_dir"])
REFERENCE_DIR = str(
    _reference if _reference.is_absolute() else Path(workflow.basedir) / _reference
)
OBJECT = IMAGING["object"]["name"]
SURVEY_FIELDS = [f"cand{i + 1:02d}" for i in range(IMAGING["survey"]["n_fields"])]
SEQUENCES = [(OBJECT, band) for band in IMAGING["object"]["sequences"]] + [
    (field, IMAGING["survey"]["filter"]) for field in SURVEY_FIELDS
]


wildcard_constraints:
    chunk=r"\d{3}",
    night=r"\d{4}-\d{2}-\d{2}",
    field=r"[A-Za-z0-9_]+",
    filter=r"J|H|Ks",
    survey=r"[A-Za-z0-9_]+",


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


RAW_DIRECTORY = IMAGING["raw_directory"]
STACK_FILES = [
    "stack.fits",
    "weight.fits",
    "offsets.ecsv",
    "catalog.ecsv",
    "psf.fits",
    "residual.fits",
    "completeness.ecsv",
]


def raw_night_inputs(wildcards):
    """The raw frames to ingest: the user's directory, or the simulated night."""
    if RAW_DIRECTORY:
        return [RAW_DIRECTORY]
    return [
        f"results/raw/{wildcards.night}/calib",
        f"results/raw/{wildcards.night}/standards",
        *[f"results/raw/{wildcards.night}/{field}/{band}" for field, band in SEQUENCES],
    ]


OBJECT_ANALYSIS_FILES = [
    "catalog.ecsv",
    "reference_comparison.json",
    "cmd.json",
    "luminosity_function.ecsv",
    "membership.ecsv",
    "decontamination.json",
    "summary.json",
]
OBJECT_FIGURES = [
    "fig6_2mass_comparison",
    "fig7_cmd",
    "fig8_luminosity_function",
    "fig9_decontamination",
    "fig10_main_sequence",
]


SURVEY_FILTER = IMAGING["survey"]["filter"]
SURVEY_ANALYSIS = IMAGING["survey_analysis"]


def user_supplied(pattern, what, key):
    """Input function for a table that the simulation writes but real data must bring along."""

    def path(wildcards):
        name = pattern.format(**wildcards)
        if RAW_DIRECTORY and not Path(name).exists():
            raise ValueError(
                f"{what} {name} not found: with real data (imaging.raw_directory) put it there or set "
                f"imaging.{key} (it is simulated only for the simulated night)"
            )
        return name

    return path


def survey_truth_labels(wildcards):
    """The simulated survey's true classes (only when the night is simulated)."""
    if RAW_DIRECTORY:
        return []
    return f"results/truth/{wildcards.night}/survey_labels.ecsv"


def survey_targets():
    """Classification, its summary and Fig. 5 of the candidate survey (when it has fields)."""
    if not SURVEY_FIELDS:
        return []
    return [
        f"results/survey/{NIGHT}/classification.ecsv",
        f"results/survey/{NIGHT}/classification.json",
        f"results/figures/survey/{NIGHT}/fig5_sky_map.png",
    ]


def field_centre(field):
    """(l, b) in degrees of the centre of a field's object region."""
    if field == OBJECT:
        return [IMAGING["object"]["l_deg"], IMAGING["object"]["b_deg"]]
    raise ValueError(
        f"no centre known for field {field!r}: the CMD analysis runs on the object field {OBJECT!r}"
    )


def imaging_targets():
    """Stacks and PSF photometry of the object field in every band; with H and Ks, its calibrated analysis."""
    bands = IMAGING["object"]["sequences"]
    targets = [
        f"results/imaging/{NIGHT}/{OBJECT}/{band}/{name}"
        for band in bands
        for name in STACK_FILES
    ]
    if {"H", "Ks"} <= set(bands):
        targets += [f"results/imaging/{NIGHT}/calibration.json"]
        targets += [
            f"results/imaging/{NIGHT}/{OBJECT}/{name}" for name in OBJECT_ANALYSIS_FILES
        ]
        targets += [
            f"results/figures/imaging/{NIGHT}/{OBJECT}/{name}.png"
            for name in OBJECT_FIGURES
        ]
    return targets


def simulated_night_targets():
    """The raw simulated night and its truth (only when the data are simulated)."""
    if RAW_DIRECTORY:
        return []
    return [
        f"results/raw/{NIGHT}/calib",
        f"results/raw/{NIGHT}/standards",
        *[f"results/raw/{NIGHT}/{field}/{band}" for field, band in SEQUENCES],
        f"results/raw/{NIGHT}/reference/{OBJECT}_2mass.ecsv",
        *expand(
            "results/truth/{night}/{name}",
            night=NIGHT,
            name=[
                "stars.ecsv",
                "scene.json",
                "instrument.json",
                "survey_labels.ecsv",
                "response.fits",
            ],
        ),
    ]


FLOW = config["flow"]
FLOW_SURVEY = FLOW["survey"]
FLOW_CHUNKS = [f"{i:03d}" for i in range(FLOW["resampling"]["chunks"])]
FLOW_RECOVERY_CHUNKS = [f"{i:03d}" for i in range(FLOW["recovery"]["chunks"])]
_flow_input = FLOW["input_directory"]
FLOW_INPUT_DIRECTORY = (
    None
    if _flow_input is None
    else str(
        Path(_flow_input)
        if Path(_flow_input).is_absolute()
        else Path(workflow.basedir) / _flow_input
    )
)
FLOW_FIGURES = [
    "velocity_vs_apex_angle",
    "supergalactic_projection",
    "aitoff_directions",
]


SUPERNOVAE = FLOW["supernovae"]
if SUPERNOVAE is not None:
    _sn_path = Path(SUPERNOVAE["path"])
    SUPERNOVAE = {
        "name": "pantheonplus",
        "z_min": 0.01,
        "z_max": 0.1,
        "exclude_calibrators": True,
        "h0": 73.0,
        "omega_m": 0.3,
        **SUPERNOVAE,
        "path": str(
            _sn_path if _sn_path.is_absolute() else Path(workflow.basedir) / _sn_path
        ),
    }


def flow_input_tables(wildcards):
    """A user's survey tables (flow.input_directory): clusters, galaxies, dispersions (.ecsv or .csv)."""
    from astropipe.flow.input_tables import TABLES, find_table

    return {name: str(find_table(FLOW_INPUT_DIRECTORY, name)) for name in TABLES}


def flow_targets():
    """Bulk flow, resampling and figures of the survey (if simulated: truth and Monte-Carlo recovery), and of the supernovae."""
    supernova = (
        []
        if SUPERNOVAE is None
        else [
            f"results/flow/{SUPERNOVAE['name']}/bulkflow.json",
            *expand(
                "results/figures/flow/{survey}/{figure}.png",
                survey=SUPERNOVAE["name"],
                figure=FLOW_FIGURES,
            ),
        ]
    )
    simulated = (
        []
        if FLOW_INPUT_DIRECTORY
        else [
            f"results/truth/flow/{FLOW_SURVEY}.json",
            f"results/flow/{FLOW_SURVEY}/recovery.json",
        ]
    )
    return (
        supernova
        + simulated
        + [
            f"results/flow/{FLOW_SURVEY}/bulkflow.json",
            f"results/flow/{FLOW_SURVEY}/resampling.json",
            *expand(
                "results/figures/flow/{survey}/{figure}.png",
                survey=FLOW_SURVEY,
                figure=FLOW_FIGURES,
            ),
        ]
    )
