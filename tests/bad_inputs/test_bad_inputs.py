"""What is checked: every bad input below stops the workflow with a message naming what and where.

Each case is a mistake a user can make: in the configuration, in a survey or supernova table, in a
raw FITS frame. Each runs Snakemake as a user would (a dry run for the configuration, the job that
reads the input otherwise) and asserts that it exits non-zero, that the message names the file, key
or column together with the offending value, and that no result was written. Read the ``CASES``
table as the list of what the workflow refuses; ``tests/flow/test_bulkflow.py`` and
``tests/reduce/test_ingest.py`` test the same checks on the library calls.
"""

from __future__ import annotations

import copy
import gzip
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import ncompress
import numpy as np
import pytest
import yaml
from astropy.io import fits
from astropy.table import Table
from conftest import CI_CONFIG, REPO, run_snakemake

from astropipe.flow.survey import SurveySpec, simulate_survey

pytestmark = pytest.mark.workflow

NIGHT = "2002-07-05"
MJD_NIGHT = 52460.98  # 23:31 UTC on the night's date
PANTHEON = REPO / "resources" / "supernovae" / "pantheonplus_sh0es.dat"
SN_TARGET = "results/flow/pantheonplus/bulkflow.json"
FP_TARGET = "results/flow/my_survey/bulkflow.json"
FP_INPUT = "results/flow/my_survey/input/clusters.ecsv"
FRAMES_TARGET = f"results/imaging/{NIGHT}/frames.ecsv"


@dataclass
class Case:
    """One bad input: how to make it, what to run, what the message must say, what must not exist."""

    make: Callable[[Path, dict], list[str]]  # writes files, edits the config, returns the targets
    expected: tuple[str, ...]
    dry_run: bool = False
    absent: tuple[str, ...] = field(default_factory=tuple)


# --- configuration -------------------------------------------------------------------------------


def _set(key: str, value) -> Callable[[Path, dict], list[str]]:
    def make(_directory: Path, config: dict) -> list[str]:
        *parents, last = key.split(".")
        node = config
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
        return []

    return make


def _path(key: str, relative: str, create: str | None = None):
    """Point ``key`` at ``relative`` inside the case directory (optionally creating a file or directory)."""

    def make(directory: Path, config: dict) -> list[str]:
        path = directory / relative
        if create == "dir":
            path.mkdir(parents=True)
        elif create == "file":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("# nothing\n")
        return _set(key, str(path))(directory, config)

    return make


def _duplicate_key_file(directory: Path, config: dict) -> list[str]:
    config["__extra_file__"] = "lensing:\n  chunks: 2\n  chunks: 3\n"
    return []


def _unconfigured_target(target: str):
    def make(_directory: Path, _config: dict) -> list[str]:
        return [target]

    return make


# --- survey tables (flow.input_directory) ---------------------------------------------------------


def _fp_tables(directory: Path, config: dict, change: Callable[[dict], None], suffix: str = ".csv") -> list[str]:
    clusters, galaxies, dispersions, _ = simulate_survey(
        SurveySpec(n_clusters=20, n_galaxies=200), np.random.default_rng(4)
    )
    tables = {"clusters": clusters, "galaxies": galaxies, "dispersions": dispersions}
    change(tables)
    folder = directory / "tables"
    folder.mkdir()
    for name, table in tables.items():
        table.write(folder / f"{name}{suffix}", format="ascii.csv" if suffix == ".csv" else "ascii.ecsv")
    config["flow"].update(survey="my_survey", input_directory=str(folder), supernovae=None)
    return [FP_TARGET]


def _fp(change: Callable[[dict], None]):
    return lambda directory, config: _fp_tables(directory, config, change)


def _set_cell(table: str, column: str, row: int, value):
    def change(tables: dict) -> None:
        data = tables[table][column].astype(float) if isinstance(value, float) else tables[table][column]
        data[row] = value
        tables[table][column] = data

    return change


def _fp_file_edit(edit: Callable[[str], str]):
    """Write the tables, then damage the text of galaxies.csv."""

    def make(directory: Path, config: dict) -> list[str]:
        targets = _fp_tables(directory, config, lambda tables: None)
        path = directory / "tables" / "galaxies.csv"
        path.write_text(edit(path.read_text()))
        return targets

    return make


# --- supernova table (flow.supernovae.path) --------------------------------------------------------


def _supernovae(edit: Callable[[Table], None] | None = None, text: Callable[[str], str] | None = None):
    def make(directory: Path, config: dict) -> list[str]:
        lines = PANTHEON.read_text().splitlines()
        path = directory / "sn.dat"
        path.write_text("\n".join(lines[:120]) + "\n")
        if edit is not None:
            table = Table.read(path, format="ascii.basic")
            edit(table)
            table.write(path, format="ascii.basic", overwrite=True)
        if text is not None:
            path.write_text(text(path.read_text()))
        config["flow"]["supernovae"] = {"name": "pantheonplus", "path": str(path)}
        return [SN_TARGET]

    return make


def _sn_cell(column: str, row: int, value):
    def edit(table: Table) -> None:
        data = table[column].astype(float) if isinstance(value, float) else table[column]
        data[row] = value
        table[column] = data

    return edit


# --- raw FITS frames (imaging.raw_directory) -------------------------------------------------------


def _frame(
    path: Path,
    kind="OBJECT",
    dit=20.0,
    ndit=2,
    offset=(0.0, 0.0),
    lamp=None,
    shape=(16, 16),
    mjd=MJD_NIGHT,
    level=100.0,
):
    header = fits.Header()
    values = {
        "OBJECT": "object11",
        "MJD-OBS": mjd,
        "HIERARCH ESO INS PIXSCALE": 0.145,
        "HIERARCH ESO DPR TYPE": kind,
        "HIERARCH ESO DPR CATG": "SCIENCE" if kind == "OBJECT" else "CALIB",
        "HIERARCH ESO DPR TECH": "IMAGE",
        "HIERARCH ESO DET DIT": dit,
        "HIERARCH ESO DET NDIT": ndit,
        "HIERARCH ESO INS FILT1 ID": "Ks",
        "HIERARCH ESO INS FILT2 ID": "open",
        "HIERARCH ESO TEL AIRM START": 1.1,
        "HIERARCH ESO TPL EXPNO": 2,
        "HIERARCH ESO SEQ CUMOFFSETX": offset[0],
        "HIERARCH ESO SEQ CUMOFFSETY": offset[1],
    }
    if lamp is not None:
        values["HIERARCH ESO INS LAMP1 ST"] = lamp
    header.update(values)
    fits.PrimaryHDU(np.full(shape, level, np.float32), header=header).writeto(path)
    return path


def _raw_night(damage: Callable[[Path], None] | None = None):
    """A small reducible night of raw frames in the case directory; ``damage`` spoils it."""

    def make(directory: Path, config: dict) -> list[str]:
        raw = directory / "raw"
        raw.mkdir()
        for i in range(4):
            _frame(raw / f"sci_{i}.fits", offset=(10.0 * i, -5.0 * i), mjd=MJD_NIGHT + i / 1440)
        _frame(raw / "dark.fits", kind="DARK")
        for state in ("on", "off"):
            _frame(raw / f"flat_{state}.fits", kind="FLAT,LAMP", dit=3.0, lamp=state == "on")
        _frame(raw / "illum.fits", kind="ILLUM")
        if damage is not None:
            damage(raw)
        config["imaging"].update(raw_directory=str(raw), night=NIGHT)
        return [FRAMES_TARGET]

    return make


def _truncate(raw: Path) -> None:
    data = (raw / "sci_2.fits").read_bytes()
    (raw / "sci_2.fits").write_bytes(data[:3000])  # the header and the first 30 pixels


def _half_of(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _header_value(name: str, keyword: str, value):
    def damage(raw: Path) -> None:
        with fits.open(raw / name, mode="update") as hdul:
            hdul[0].header[keyword] = value

    return damage


CASES: dict[str, Case] = {
    # configuration: stopped before any job, naming the key, the value and what was expected
    "integer key given as 2.0": Case(
        _set("lensing.chunks", 2.0), ("lensing.chunks = 2.0", "expected type integer"), True
    ),
    "integer key given as text": Case(
        _set("imaging.seed", "abc"), ("imaging.seed = 'abc'", "expected type integer"), True
    ),
    "impossible calendar date": Case(
        _set("imaging.night", "2002-02-30"), ("imaging.night = '2002-02-30'", "is not a 'date'"), True
    ),
    "value below its minimum": Case(
        _set("flow.resampling.bootstrap", 1), ("flow.resampling.bootstrap = 1", "minimum of 2"), True
    ),
    "misspelt key": Case(_set("imaging.reductoin", {}), ("imaging: unknown key(s) ['reductoin']",), True),
    "cz range reversed": Case(
        _set("flow.simulation.cz_min", 15000.0),
        ("flow.simulation.cz_min = 15000.0 must be less than flow.simulation.cz_max = 14000.0",),
        True,
    ),
    "supernova redshift range reversed": Case(
        _set("flow.supernovae", {"z_min": 0.2}),
        ("flow.supernovae.z_min = 0.2 must be less than flow.supernovae.z_max = 0.1",),
        True,
    ),
    "class fractions not summing to one": Case(
        _set(
            "imaging.survey.class_fractions",
            {"embedded_cluster": 0.5, "dissolving_cluster": 0.1, "bright_star_blend": 0.1, "field": 0.1},
        ),
        ("imaging.survey.class_fractions", "sum to 0.8; expected 1"),
        True,
    ),
    "annulus given outer radius first": Case(
        _set("imaging.survey_analysis.background_ring_arcsec", [70, 45]),
        ("imaging.survey_analysis.background_ring_arcsec = [70, 45]: must be strictly increasing",),
        True,
    ),
    "object region larger than the field region": Case(
        _set("imaging.cmd.object_radius_arcsec", 30.0),
        ("imaging.cmd.object_radius_arcsec = 30.0 must be less than imaging.cmd.field_inner_radius_arcsec = 28.0",),
        True,
    ),
    "survey and supernovae with one name": Case(
        _set("flow.survey", "pantheonplus"),
        ("flow.supernovae.name = 'pantheonplus': must differ from flow.survey",),
        True,
    ),
    "key given twice in a config file": Case(
        _duplicate_key_file, ("extra.yaml", "duplicate key 'chunks' (first on line 2)"), True
    ),
    "empty raw directory path": Case(
        _set("imaging.raw_directory", ""), ("imaging.raw_directory = ''", "should be non-empty"), True
    ),
    "raw directory that does not exist": Case(
        _path("imaging.raw_directory", "no_such_night"),
        ("imaging.raw_directory = ", "no_such_night", "expected an existing directory, found nothing"),
        True,
    ),
    "raw directory without frames": Case(
        _path("imaging.raw_directory", "empty_night", "dir"),
        ("imaging.raw_directory = ", "empty_night", "no raw frames found"),
        True,
    ),
    "raw directory that is a file": Case(
        _path("imaging.raw_directory", "night.txt", "file"),
        ("night.txt", "expected an existing directory, found a file"),
        True,
    ),
    "survey table directory that does not exist": Case(
        _path("flow.input_directory", "no_tables"), ("flow.input_directory = ", "no_tables", "found nothing"), True
    ),
    "supernova table that does not exist": Case(
        _path("flow.supernovae.path", "missing.dat"),
        ("flow.supernovae.path = ", "missing.dat", "expected an existing file"),
        True,
    ),
    "reference directory that does not exist": Case(
        _path("imaging.reference_dir", "no_reference"),
        ("imaging.reference_dir = ", "no_reference", "found nothing"),
        True,
    ),
    "reference directory without the standards table": Case(
        _path("imaging.reference_dir", "reference", "dir"),
        ("Missing input files", "reference/persson1998_nir_standards.txt"),
        True,
    ),
    # no fallback to simulation: nothing simulates a survey or night the configuration does not name
    "a survey the configuration does not name": Case(
        _unconfigured_target("results/flow/other_survey/bulkflow.json"),
        ("No rule to produce results/flow/other_survey/bulkflow.json",),
        True,
    ),
    "a night the configuration does not name": Case(
        _unconfigured_target("results/imaging/2003-01-01/frames.ecsv"),
        ("night 2003-01-01 is not a night of this configuration", "the nights are 2002-07-05"),
        True,
    ),
    # survey tables: the file, the column, the row and the value
    "cz given as redshift": Case(
        _fp(lambda t: t["clusters"].__setitem__("cz_helio", t["clusters"]["cz_helio"] / 299792.458)),
        ("clusters.csv: column 'cz_helio'", "look like redshifts"),
        absent=(FP_INPUT,),
    ),
    "Galactic coordinates in radians": Case(
        _fp(lambda t: [t["clusters"].__setitem__(c, np.radians(t["clusters"][c])) for c in ("l", "b")]),
        ("clusters.csv: columns 'l' and 'b' look like radians",),
        absent=(FP_INPUT,),
    ),
    "placeholder -999 for a velocity": Case(
        _fp(_set_cell("clusters", "cz_helio", 3, -999.0)),
        ("clusters.csv: column 'cz_helio' row 3 is -999.0 km/s, a placeholder",),
        absent=(FP_INPUT,),
    ),
    "placeholder 99.99 for a surface brightness": Case(
        _fp(_set_cell("galaxies", "mu_e", 7, 99.99)),
        ("galaxies.csv: column 'mu_e' row 7 is 99.99", "placeholder"),
        absent=(FP_INPUT,),
    ),
    "NaN dispersion": Case(
        _fp(_set_cell("dispersions", "log_sigma", 5, np.nan)),
        ("dispersions.csv: column 'log_sigma' row 5", "expected a number in [1.0, 3.0]"),
        absent=(FP_INPUT,),
    ),
    "dispersion measurement pasted twice": Case(
        _fp(
            lambda t: t.__setitem__(
                "dispersions", Table(np.concatenate([t["dispersions"].as_array(), t["dispersions"][:1].as_array()]))
            )
        ),
        ("dispersions.csv: rows 0 and", "are duplicates"),
        absent=(FP_INPUT,),
    ),
    "missing column": Case(
        _fp(lambda t: t["galaxies"].remove_column("mu_e_err")),
        ("galaxies.csv: column 'mu_e_err' (its error) is missing",),
        absent=(FP_INPUT,),
    ),
    "galaxy in an unknown cluster": Case(
        _fp(_set_cell("galaxies", "cluster", 2, 999)),
        ("galaxies.csv: column 'cluster' names '999'",),
        absent=(FP_INPUT,),
    ),
    "truncated table": Case(
        _fp_file_edit(lambda text: text[: text.rstrip().rfind(",")]),
        ("galaxies.csv: line", "fields, the header has", "truncated"),
        absent=(FP_INPUT,),
    ),
    "line with an extra field": Case(
        _fp_file_edit(lambda text: text.replace("\n", ",1\n", 3).replace(",1\n", "\n", 2)),
        ("galaxies.csv: line 3 has 9 fields, the header has 8",),
        absent=(FP_INPUT,),
    ),
    # the supernova table
    "supernova distance modulus -999": Case(
        _supernovae(_sn_cell("MU_SH0ES", 10, -999.0)),
        ("sn.dat: column 'MU_SH0ES' row 10 is -999.0 mag, a placeholder",),
        absent=(SN_TARGET,),
    ),
    "supernova redshift given as cz": Case(
        _supernovae(lambda t: t.__setitem__("zCMB", t["zCMB"] * 299792.458)),
        ("sn.dat: column 'zCMB'", "look like cz in km/s"),
        absent=(SN_TARGET,),
    ),
    "supernova positions in radians": Case(
        _supernovae(lambda t: [t.__setitem__(c, np.radians(t[c])) for c in ("RA", "DEC")]),
        ("sn.dat: columns 'RA' and 'DEC' look like radians",),
        absent=(SN_TARGET,),
    ),
    "supernova light curve listed twice": Case(
        _supernovae(text=lambda s: s + s.splitlines()[5] + "\n"),
        ("sn.dat: rows 4 and 119 are duplicates (CID = ",),
        absent=(SN_TARGET,),
    ),
    "truncated supernova table": Case(
        _supernovae(text=lambda s: s[: s.rstrip().rfind(" ")] + "\n"),
        ("sn.dat: line 120 has 46 fields, the header has 47", "truncated"),
        absent=(SN_TARGET,),
    ),
    "supernova error NaN": Case(
        _supernovae(_sn_cell("MU_SH0ES_ERR_DIAG", 3, np.nan)),
        ("sn.dat: column 'MU_SH0ES_ERR_DIAG' row 3 is nan mag",),
        absent=(SN_TARGET,),
    ),
    "calibrator flag 2": Case(
        _supernovae(_sn_cell("IS_CALIBRATOR", 20, 2)),
        ("sn.dat: column 'IS_CALIBRATOR' row 20 is '2'; expected one of ('0', '1')",),
        absent=(SN_TARGET,),
    ),
    # raw FITS frames
    "truncated data unit": Case(
        _raw_night(_truncate), ("sci_2.fits: the data unit is truncated",), absent=(FRAMES_TARGET,)
    ),
    "frame of another size": Case(
        _raw_night(lambda raw: _frame(raw / "sci_9.fits", offset=(7.0, 7.0), shape=(16, 20))),
        ("sci_9.fits: 20 x 16 pixels; the night's other frames have 16 x 16",),
        absent=(FRAMES_TARGET,),
    ),
    "filters in both wheels": Case(
        _raw_night(_header_value("sci_1.fits", "HIERARCH ESO INS FILT2 ID", "Br_gamma")),
        ("sci_1.fits: unknown filter 'Ks+Br_gamma'",),
        absent=(FRAMES_TARGET,),
    ),
    "NDIT of zero": Case(
        _raw_night(_header_value("sci_0.fits", "HIERARCH ESO DET NDIT", 0)),
        ("sci_0.fits: keyword 'HIERARCH ESO DET NDIT' = 0",),
        absent=(FRAMES_TARGET,),
    ),
    "negative DIT": Case(
        _raw_night(_header_value("dark.fits", "HIERARCH ESO DET DIT", -1.0)),
        ("dark.fits: keyword 'HIERARCH ESO DET DIT' = -1.0; expected an integration time > 0 s",),
        absent=(FRAMES_TARGET,),
    ),
    "time stamp outside the night": Case(
        _raw_night(_header_value("sci_3.fits", "MJD-OBS", MJD_NIGHT + 3.0)),
        ("sci_3.fits: MJD-OBS = ", "is outside the night of 2002-07-05"),
        absent=(FRAMES_TARGET,),
    ),
    "file that is not FITS": Case(
        _raw_night(lambda raw: (raw / "notes.fits").write_text("observing log\n" * 300)),
        ("notes.fits: not a readable FITS file",),
        absent=(FRAMES_TARGET,),
    ),
    "missing keyword": Case(
        _raw_night(lambda raw: fits.delval(raw / "sci_2.fits", "HIERARCH ESO TEL AIRM START")),
        ("sci_2.fits: missing header keyword 'HIERARCH ESO TEL AIRM START'",),
        absent=(FRAMES_TARGET,),
    ),
    "damaged compressed frame": Case(
        _raw_night(
            lambda raw: (raw / "sci_5.fits.gz").write_bytes(_half_of(gzip.compress((raw / "sci_0.fits").read_bytes())))
        ),
        ("sci_5.fits.gz: ",),
        absent=(FRAMES_TARGET,),
    ),
}


def _run(name: str, case: Case, root: Path) -> tuple[int, str, Path]:
    directory = root / name.replace(" ", "_")
    directory.mkdir(parents=True)
    config = copy.deepcopy(yaml.safe_load(CI_CONFIG.read_text()))
    targets = case.make(directory, config)
    extra = config.pop("__extra_file__", None)
    (directory / "config.yaml").write_text(yaml.safe_dump(config))
    configfiles = [str(directory / "config.yaml")]
    if extra is not None:
        (directory / "extra.yaml").write_text(extra)
        configfiles.append(str(directory / "extra.yaml"))
    workdir = directory / "work"
    workdir.mkdir()
    result = run_snakemake(
        *targets,
        *(["-n"] if case.dry_run else ["--cores", "1"]),
        "--directory",
        str(workdir),
        "--configfile",
        *configfiles,
        check=False,
        timeout=300,
    )
    logs = "".join(path.read_text() for path in workdir.glob("results/logs/**/*.log"))
    return result.returncode, result.stdout + result.stderr + logs, workdir


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, tuple[int, str, Path]]:
    """Every case run once, two at a time (each is a separate Snakemake process)."""
    root = tmp_path_factory.mktemp("bad_inputs")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_run, name, case, root) for name, case in CASES.items()}
        return {name: future.result() for name, future in futures.items()}


def test_there_are_at_least_forty_distinct_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_stops_the_run_with_a_message_naming_it(name, outcomes):
    status, output, workdir = outcomes[name]
    case = CASES[name]
    assert status != 0, f"{name}: the run succeeded\n{output[-3000:]}"
    for text in case.expected:
        assert text in output, f"{name}: {text!r} not in the message:\n{output[-4000:]}"
    if case.dry_run:
        assert not (workdir / "results").exists() or not any((workdir / "results").rglob("*.*"))
    for result in case.absent:
        assert not (workdir / result).exists(), f"{name}: {result} was written"


def test_a_valid_small_night_with_compressed_frames_is_ingested(tmp_path):
    """The reference for the FITS cases: the same night without damage passes, plain, gzipped or compressed."""
    config = copy.deepcopy(yaml.safe_load(CI_CONFIG.read_text()))
    _raw_night()(tmp_path, config)
    raw = Path(config["imaging"]["raw_directory"])
    for path in sorted(raw.glob("sci_*.fits"))[:2]:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    flat = raw / "flat_on.fits"
    (raw / "FLAT_ON.FITS.Z").write_bytes(ncompress.compress(flat.read_bytes()))
    flat.unlink()
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(
        FRAMES_TARGET,
        "--cores",
        "1",
        "--directory",
        str(tmp_path / "work"),
        "--configfile",
        str(tmp_path / "config.yaml"),
    )
    frames = Table.read(tmp_path / "work" / FRAMES_TARGET, format="ascii.ecsv")
    assert sum(str(p).endswith(".fits.gz") for p in frames["path"]) == 2 and len(frames) == 8
    assert frames["lamp_on"][[str(p).endswith("FLAT_ON.FITS.Z") for p in frames["path"]]].tolist() == [True]


def test_replacing_a_raw_frame_in_place_reruns_the_ingest(tmp_path):
    config = copy.deepcopy(yaml.safe_load(CI_CONFIG.read_text()))
    _raw_night()(tmp_path, config)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    arguments = ("--directory", str(tmp_path / "work"), "--configfile", str(tmp_path / "config.yaml"))
    run_snakemake(FRAMES_TARGET, "--cores", "1", *arguments)
    assert "Nothing to be done" in run_snakemake(FRAMES_TARGET, "-n", *arguments).stdout
    raw = Path(config["imaging"]["raw_directory"])
    replacement = tmp_path / "replacement.fits"
    _frame(replacement, offset=(10.0, -5.0), mjd=MJD_NIGHT + 1 / 1440, level=120.0)
    shutil.copyfile(replacement, raw / "sci_1.fits")  # same name and header, new pixels
    planned = run_snakemake(FRAMES_TARGET, "-n", *arguments).stdout
    assert "imaging_ingest" in planned and "updated input files" in planned
