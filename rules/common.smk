"""Configuration, validation and helpers shared by every branch."""

import os
import re
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")

WORKFLOW_DIR = Path(workflow.basedir)
# The library is imported from the workflow's own src/, by the Snakefile and by every script job
# (local, Slurm or --sdm conda: each job re-reads this file), so no install of it is needed.
LIBRARY_DIR = str(WORKFLOW_DIR / "src")
sys.path.insert(0, LIBRARY_DIR)

from astropipe.library_path import export_library_path

export_library_path(LIBRARY_DIR)

from astropipe.config_check import (
    ConfigError,
    canonical_order,
    check_config,
    check_config_files,
    configured_path,
)
from astropipe.night_sheet import SheetError, nights_from_config, read_night_sheet
from astropipe.reduce.raw_files import RAW_FRAME_SUFFIXES, find_raw_frames

# config.yaml beside the Snakefile, then the user's --configfile files (which extend it), each read
# strictly first: an empty file or a key given twice is named instead of silently ignored
check_config_files([WORKFLOW_DIR / "config.yaml", *workflow.overwrite_configfiles])


configfile: WORKFLOW_DIR / "config.yaml"


check_config(config, WORKFLOW_DIR / "schemas" / "config.schema.yaml")
validate(config, "../schemas/config.schema.yaml", set_default=True)
# keys in one order whatever the order of the files: params compare equal between runs
_canonical = canonical_order(config)
config.clear()
config.update(_canonical)

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
# what defines the simulated night: reduction and photometry settings must not re-trigger it
SIMULATION = {
    key: IMAGING[key]
    for key in (
        "night",
        "seed",
        "extinction_law_ak_per_ehk",
        "object",
        "survey",
        "standards",
        "field_names",
        "simulation",
    )
}
RESOURCES = WORKFLOW_DIR / "resources"
REFERENCE_DIR = configured_path(
    IMAGING["reference_dir"],
    "imaging.reference_dir",
    shipped=RESOURCES / "reference",
    kind="directory",
)
REFERENCE_TABLES = {
    "standards": str(REFERENCE_DIR / "persson1998_nir_standards.txt"),
    "dwarfs": str(REFERENCE_DIR / "dwarf_sequence_2mass.csv"),
    "upper_main_sequence": str(REFERENCE_DIR / "cotera2000_quoted.csv"),
}
OBJECT = IMAGING["object"]["name"]
SURVEY_FIELDS = [f"cand{i + 1:02d}" for i in range(IMAGING["survey"]["n_fields"])]


def raw_directory_key(date):
    """The configuration key a night's raw directory comes from, for messages."""
    if IMAGING["sheet"] is None:
        return "imaging.raw_directory"
    return f"{IMAGING['sheet']}: raw_directory of the night {date}"


def read_nights():
    """The nights to reduce: the sheet's (imaging.sheet) or the configured one (imaging.night), each
    real night's raw directory checked to exist."""
    if IMAGING["sheet"] is None:
        nights = nights_from_config(IMAGING, SURVEY_FIELDS)
    elif IMAGING["raw_directory"] is not None:
        raise ConfigError(
            "imaging.sheet and imaging.raw_directory are both set: with a sheet, give each night's raw "
            "directory in its raw_directory column"
        )
    else:
        try:
            nights = read_night_sheet(
                configured_path(IMAGING["sheet"], "imaging.sheet"),
                object_name=OBJECT,
                object_filters=list(IMAGING["object"]["sequences"]),
                survey_fields=SURVEY_FIELDS,
                survey_filter=IMAGING["survey"]["filter"],
            )
        except SheetError as error:
            raise ConfigError(str(error)) from error
    for night in nights.values():
        if not night.simulated:
            night.raw_directory = str(
                configured_path(
                    night.raw_directory, raw_directory_key(night.date), kind="directory"
                )
            )
    return nights


NIGHTS = read_nights()


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


# PSF photometry proper: its artificial-star tests (imaging_completeness) have their own settings
PHOTOMETRY = {
    key: value
    for key, value in IMAGING["photometry"].items()
    if key != "artificial_stars"
}
STACK_FILES = [
    "stack.fits",
    "weight.fits",
    "offsets.ecsv",
    "catalog.ecsv",
    "psf.fits",
    "residual.fits",
    "completeness.ecsv",
]


# Wildcard constraints that make simulation impossible where the data are the user's: the
# simulate rules can only produce the configured night, fields and survey, and only when the
# configuration asks for a simulation; a missing user file then stops the run instead.
NEVER = "(?!)"  # a regular expression no wildcard value matches
SIMULATED_NIGHT = (
    "|".join(re.escape(date) for date, night in NIGHTS.items() if night.simulated)
    or NEVER
)
SIMULATED_FIELDS = (
    "|".join(
        sorted(
            {
                re.escape(field)
                for night in NIGHTS.values()
                if night.simulated
                for field, _ in night.sequences
            }
        )
    )
    or NEVER
)


def user_raw_frames(night):
    """Every raw frame of a real night's directory (searched recursively), each an input of the ingest.

    Listing the files, not the directory, makes Snakemake rerun the ingest and everything after it
    when a frame is replaced, added or removed.
    """
    frames = [str(path) for path in find_raw_frames([night.raw_directory])]
    if not frames:
        raise ConfigError(
            f"{raw_directory_key(night.date)} = {night.raw_directory!r}: no raw frames found "
            f"(searched recursively for names ending in {', '.join(RAW_FRAME_SUFFIXES)})"
        )
    return frames


RAW_FRAMES = {
    date: user_raw_frames(night)
    for date, night in NIGHTS.items()
    if not night.simulated
}
# a user's night: its raw size shared equally among its sequences (read once)
RAW_MB_PER_SEQUENCE = {
    date: sum(os.path.getsize(path) for path in frames)
    / 1e6
    / max(1, len(NIGHTS[date].sequences))
    for date, frames in RAW_FRAMES.items()
}


def night_of(wildcards):
    """The night a job is for, or a message naming the nights this configuration has."""
    if wildcards.night not in NIGHTS:
        raise ValueError(
            f"night {wildcards.night} is not a night of this configuration (imaging.night or imaging.sheet): "
            f"the nights are {', '.join(NIGHTS)}"
        )
    return NIGHTS[wildcards.night]


def raw_night_inputs(wildcards):
    """The raw frames to ingest: the user's frames, or the simulated night's directories."""
    night = night_of(wildcards)
    if not night.simulated:
        return RAW_FRAMES[night.date]
    return [
        f"results/raw/{night.date}/calib",
        f"results/raw/{night.date}/standards",
        *[
            f"results/raw/{night.date}/{field}/{band}"
            for field, band in night.sequences
        ],
    ]


def simulation_settings(wildcards):
    """What defines one simulated night: the imaging settings of the simulation, its date and seed."""
    night = night_of(wildcards)
    return {**SIMULATION, "night": night.date, "seed": night.seed}


def sequence_raw_mb(wildcards):
    """Size of one dithered sequence's raw frames (MB), for its jobs' memory and time.

    Simulated: NEXP float32 frames of the configured detector. A user's night: the raw directory's
    size shared equally among the configured sequences (a retry doubles the request if that is short).
    """
    if wildcards.night in RAW_MB_PER_SEQUENCE:
        return RAW_MB_PER_SEQUENCE[wildcards.night]
    if wildcards.field == OBJECT:
        exposures = IMAGING["object"]["sequences"][wildcards.filter]["nexp"]
    else:
        exposures = IMAGING["survey"]["nexp"]
    return exposures * 4 * IMAGING["simulation"]["detector"]["size"] ** 2 / 1e6


def scaled_by_sequence(base, per_mb):
    """A resource of base + per_mb x the sequence's raw size, doubled on each retry."""

    def resource(wildcards, attempt):
        return int((base + per_mb * sequence_raw_mb(wildcards)) * attempt)

    return resource


def scaled_by_input(base, per_mb):
    """A resource of base + per_mb x the job's input size (MB), doubled on each retry."""

    def resource(wildcards, input, attempt):
        return int((base + per_mb * input.size_mb) * attempt)

    return resource


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
# each rule receives only the settings it uses, so that editing one key reruns only the jobs it affects
SURVEY_FIELD_SETTINGS = {
    key: value
    for key, value in SURVEY_ANALYSIS.items()
    if key not in ("candidates", "classification")
}
CALIBRATION = IMAGING["calibration"]
STANDARDS_SETTINGS = {
    key: CALIBRATION[key]
    for key in (
        "aperture",
        "extinction",
        "fit_extinction",
        "min_airmass_span",
        "min_standards",
        "min_points",
        "colour_term_prior",
        "ks_to_k_err",
    )
}
FIELD_CALIBRATION_SETTINGS = {
    key: CALIBRATION[key]
    for key in (
        "aperture_corrections",
        "max_aperture_correction_err_mag",
        "band_match_radius_arcsec",
    )
}
CMD_SETTINGS = {
    **{key: value for key, value in IMAGING["cmd"].items() if key != "decontamination"},
    "annuli": IMAGING["cmd"]["decontamination"]["annuli"],
}


def user_supplied(pattern, what, key):
    """Input function for a table that the simulation writes but real data must bring along."""

    def path(wildcards):
        name = pattern.format(**wildcards)
        if not night_of(wildcards).simulated and not Path(name).exists():
            raise ValueError(
                f"{what} {name} not found: with real data (imaging.raw_directory) put it there or set "
                f"imaging.{key} (it is simulated only for simulated nights)"
            )
        return name

    return path


def survey_truth_labels(wildcards):
    """The simulated survey's true classes (only when the night is simulated)."""
    if not night_of(wildcards).simulated:
        return []
    return f"results/truth/{wildcards.night}/survey_labels.ecsv"


def survey_fields(night):
    """The survey fields observed in a night."""
    if night not in NIGHTS:
        raise ValueError(
            f"night {night} is not a night of this configuration: the nights are {', '.join(NIGHTS)}"
        )
    return [field for field, _ in NIGHTS[night].sequences if field != OBJECT]


def survey_targets():
    """Classification, its summary and Fig. 5 of the candidate survey of every night that has fields."""
    return [
        target
        for night in NIGHTS
        if survey_fields(night)
        for target in (
            f"results/survey/{night}/classification.ecsv",
            f"results/survey/{night}/classification.json",
            f"results/figures/survey/{night}/fig5_sky_map.png",
        )
    ]


def field_centre(field):
    """(l, b) in degrees of the centre of a field's object region."""
    if field == OBJECT:
        return [IMAGING["object"]["l_deg"], IMAGING["object"]["b_deg"]]
    raise ValueError(
        f"no centre known for field {field!r}: the CMD analysis runs on the object field {OBJECT!r}"
    )


# images a user reduced elsewhere, measured with the same PSF photometry
REDUCED_IMAGES = {
    name: {
        **settings,
        "path": str(
            configured_path(settings["path"], f"imaging.reduced_images.{name}.path")
        ),
        "weight": (
            None
            if settings.get("weight") is None
            else str(
                configured_path(
                    settings["weight"], f"imaging.reduced_images.{name}.weight"
                )
            )
        ),
        "photometry": settings.get("photometry", {}),
    }
    for name, settings in IMAGING["reduced_images"].items()
}
REDUCED_IMAGE_NAMES = "|".join(map(re.escape, REDUCED_IMAGES)) or NEVER
REDUCED_IMAGE_SETTINGS = {
    name: {
        key: settings[key]
        for key in ("filter", "gain", "saturation", "fwhm_arcsec")
        if settings.get(key) is not None
    }
    for name, settings in REDUCED_IMAGES.items()
}


def reduced_image_inputs(wildcards):
    """The image (and its exposure map, if configured) of one reduced image."""
    settings = REDUCED_IMAGES[wildcards.image]
    inputs = {"image": settings["path"]}
    if settings["weight"] is not None:
        inputs["weight"] = settings["weight"]
    return inputs


def reduced_image_targets():
    """The catalogue of every image in imaging.reduced_images."""
    return [f"results/imaging/reduced/{name}/catalog.ecsv" for name in REDUCED_IMAGES]


def imaging_targets():
    """Per night: stacks and PSF photometry of the object field in every band it was observed in;
    with H and Ks, the night's calibration and the object's calibrated analysis."""
    targets = []
    for night in NIGHTS.values():
        bands = [band for field, band in night.sequences if field == OBJECT]
        base = f"results/imaging/{night.date}/{OBJECT}"
        targets += [f"{base}/{band}/{name}" for band in bands for name in STACK_FILES]
        if {"H", "Ks"} <= set(bands):
            targets += [f"results/imaging/{night.date}/calibration.json"]
            targets += [f"{base}/{name}" for name in OBJECT_ANALYSIS_FILES]
            targets += [
                f"results/figures/imaging/{night.date}/{OBJECT}/{name}.png"
                for name in OBJECT_FIGURES
            ]
    return targets


def simulated_night_targets():
    """The raw simulated nights and their truth."""
    targets = []
    for night in NIGHTS.values():
        if not night.simulated:
            continue
        raw = f"results/raw/{night.date}"
        targets += [f"{raw}/calib", f"{raw}/standards"]
        targets += [f"{raw}/{field}/{band}" for field, band in night.sequences]
        targets += [f"{raw}/reference/{OBJECT}_2mass.ecsv"]
        targets += expand(
            "results/truth/{night}/{name}",
            night=night.date,
            name=[
                "stars.ecsv",
                "scene.json",
                "instrument.json",
                "survey_labels.ecsv",
                "response.fits",
            ],
        )
    return targets


FLOW = config["flow"]
# the settings of the FP analysis and bulk-flow fit (astropipe.flow.peculiar.FlowSettings)
FLOW_ANALYSIS = {
    key: FLOW[key]
    for key in (
        "thermal_kms",
        "extinction_map",
        "nonlinear",
        "malmquist",
        "cosmological",
    )
}
FLOW_SURVEY = FLOW["survey"]
FLOW_CHUNKS = [f"{i:03d}" for i in range(FLOW["resampling"]["chunks"])]
FLOW_RECOVERY_CHUNKS = [f"{i:03d}" for i in range(FLOW["recovery"]["chunks"])]
FLOW_INPUT_DIRECTORY = (
    None
    if FLOW["input_directory"] is None
    else str(
        configured_path(
            FLOW["input_directory"], "flow.input_directory", kind="directory"
        )
    )
)
SIMULATED_SURVEY = re.escape(FLOW_SURVEY) if FLOW_INPUT_DIRECTORY is None else NEVER
IMPORTED_SURVEY = re.escape(FLOW_SURVEY) if FLOW_INPUT_DIRECTORY is not None else NEVER
FLOW_FIGURES = [
    "velocity_vs_apex_angle",
    "supergalactic_projection",
    "aitoff_directions",
]


SUPERNOVAE = FLOW["supernovae"]
SUPERNOVA_SELECTION = None
SUPERNOVA_SURVEY = NEVER
if SUPERNOVAE is not None:
    SUPERNOVAE = {
        "name": "pantheonplus",
        "z_min": 0.01,
        "z_max": 0.1,
        "exclude_calibrators": True,
        "h0": 73.0,
        "omega_m": 0.3,
        "fit_error_model": True,
        **SUPERNOVAE,
    }
    SUPERNOVAE["path"] = str(
        configured_path(
            SUPERNOVAE.get("path"),
            "flow.supernovae.path",
            shipped=RESOURCES / "supernovae" / "pantheonplus_sh0es.dat",
        )
    )
    SUPERNOVA_SURVEY = re.escape(SUPERNOVAE["name"])
    SUPERNOVA_SELECTION = {
        key: SUPERNOVAE[key]
        for key in (
            "z_min",
            "z_max",
            "exclude_calibrators",
            "h0",
            "omega_m",
            "fit_error_model",
        )
    }


def flow_input_tables(wildcards):
    """A user's survey tables (flow.input_directory): clusters, galaxies, dispersions (.ecsv or .csv)."""
    from astropipe.flow.input_tables import TABLES, find_table

    return {name: str(find_table(FLOW_INPUT_DIRECTORY, name)) for name in TABLES}


def lcdm_targets(survey):
    """The LambdaCDM comparison of a survey's flow, unless flow.lcdm_cosmology is null."""
    return [f"results/flow/{survey}/lcdm.json"] if FLOW["lcdm_cosmology"] else []


def flow_targets():
    """Bulk flow, resampling and figures of the survey (if simulated: truth and Monte-Carlo recovery), and of the supernovae."""
    supernova = (
        []
        if SUPERNOVAE is None
        else [
            f"results/flow/{SUPERNOVAE['name']}/bulkflow.json",
            *lcdm_targets(SUPERNOVAE["name"]),
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
            *lcdm_targets(FLOW_SURVEY),
            *expand(
                "results/figures/flow/{survey}/{figure}.png",
                survey=FLOW_SURVEY,
                figure=FLOW_FIGURES,
            ),
        ]
    )
