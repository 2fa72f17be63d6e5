"""validation/decontamination_axis.py: the simulated nights it compares the two magnitude axes on."""

import importlib.util
import sys

import numpy as np
import pytest
import yaml
from astropy.table import Table
from conftest import REPO
from snakemake.utils import validate

spec = importlib.util.spec_from_file_location("decontamination_axis", REPO / "validation" / "decontamination_axis.py")
axis = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = axis  # its dataclasses look their module up there
spec.loader.exec_module(axis)

from object11_limits import MeasurementErrors, Night  # noqa: E402  (on the path the module above put there)

from astropipe.simulate.night import NightSimulation  # noqa: E402
from astropipe.simulate.scene import build_scene  # noqa: E402
from astropipe.stellar.main_sequence import UpperMainSequence  # noqa: E402

FIELD_AREA_ARCMIN2 = 2.8


def _complete_to(mag: float) -> Table:
    """An artificial-star table with completeness 1 brighter than ``mag`` and 0 fainter (0.1-mag bins)."""
    lo = np.arange(5.0, 20.0, 0.1)
    return Table({"mag_lo": lo, "mag_hi": lo + 0.1, "completeness": (lo + 0.05 < mag).astype(float)})


@pytest.fixture(scope="module")
def setup():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    imaging = config["imaging"]
    reference_dir = REPO / "resources" / "reference"
    simulation = NightSimulation(imaging, reference_dir)
    exact = Night(  # no measurement error at any magnitude
        *(np.linspace(5.0, 20.0, 200), np.zeros(200), np.zeros(200), np.zeros(200), np.zeros(200), 0.5),
        *(np.zeros(200, bool), 20.0, 20.0, np.linspace(5.0, 20.0, 200), np.zeros(200), np.zeros(200, bool), 0.5),
        *(np.zeros(0), np.zeros(0)),  # no field region: the scenes draw their own
    )
    night = axis.TuningNight(_complete_to(15.0), 0.0, _complete_to(14.0), 0.0, 15.0, 14.0, 0.5, FIELD_AREA_ARCMIN2)
    settings = imaging["cmd"]["decontamination"] | {"repeats": 5}
    return axis.Setup(
        *(
            simulation.object_field(),
            reference_dir,
            simulation.ak_per_ehk,
            MeasurementErrors.from_nights([exact]),
            [night],
        ),
        *(imaging["cmd"]["object_radius_arcsec"], imaging["cmd"]["field_inner_radius_arcsec"], 3, settings, 0.5),
    )


def test_a_scene_is_cut_into_the_object_disc_and_a_field_annulus_of_the_nights_area(setup):
    obj, field, cluster, _ = axis.simulated_regions(setup, 3)
    scene = build_scene(
        setup.spec,
        np.random.default_rng(axis.SCENE_SEED + 3),
        UpperMainSequence(setup.reference_dir),
        str(setup.reference_dir),
        setup.ak_per_ehk,
    )
    stars = scene.stars
    radius = np.hypot(stars["xi"], stars["eta"])
    # exact photometry; the completeness steps from 1 to 0 between the bin centres 0.05 mag either side of the limit
    sure = (stars["H"] < 14.95) & (stars["K"] < 13.95)
    possible = (stars["H"] < 15.05) & (stars["K"] < 14.05)
    outer = np.sqrt(FIELD_AREA_ARCMIN2 * 3600.0 / np.pi + setup.field_inner_radius**2)
    for region, inside in (
        (obj, radius < setup.object_radius),
        (field, (radius > setup.field_inner_radius) & (radius < outer)),
    ):
        measured = set(np.round(region["K"], 9))  # K = H - (H - K): equal to the truth's to rounding
        assert (
            set(np.round(stars["K"][sure & inside], 9)) <= measured <= set(np.round(stars["K"][possible & inside], 9))
        )
    assert obj["member"].sum() > 0 and not field["member"].any()  # the cluster is truncated inside the disc
    assert cluster["k10"] == scene.meta["cluster"]["k10"]


def test_both_axes_are_compared_on_the_same_scene(setup):
    rows = axis.compare_axes(setup, 3)
    assert [row["axis"] for row in rows] == list(axis.AXES)
    for row in rows:
        assert np.isfinite(row["k10_minus_true"]) and 0.0 <= row["members_kept"] <= 1.0
        assert 0.0 <= row["field_removed"] <= 1.0 and row["distance_ratio"] > 0
    assert axis.compare_axes(setup, 3) == rows  # deterministic
