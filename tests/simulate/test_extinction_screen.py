"""The patchy foreground extinction screen: its ensemble has the rms and autocorrelation it says, it reddens only
the stars behind it, and the stars themselves are those drawn without it."""

from dataclasses import replace

import numpy as np
import pytest
import yaml
from conftest import REPO
from scipy.spatial import cKDTree
from snakemake.utils import validate

from astropipe.simulate.extinction_screen import ExtinctionScreen
from astropipe.simulate.night import NightSimulation
from astropipe.simulate.populations import distance_modulus
from astropipe.simulate.scene import build_scene
from astropipe.stellar.main_sequence import UpperMainSequence

REFERENCE = REPO / "resources" / "reference"
RMS, CORRELATION = 0.1, 30.0


def test_the_screens_ensemble_has_its_rms_and_gaussian_autocorrelation():
    """Over 300 realisations: mean 0, standard deviation e_hk_rms, and the correlation of values r apart
    exp(-r^2 / 2 l^2) (0.61 at l, 0.14 at 2 l; ~0 at 4 l) within the grid's bilinear smoothing."""
    screen = ExtinctionScreen(e_hk_rms=RMS, correlation_arcsec=CORRELATION)
    rng = np.random.default_rng(3)
    values, products = [], {lag: [] for lag in (1.0, 2.0, 4.0)}
    for _ in range(300):
        realisation = screen.draw(rng, half_size_arcsec=100.0)
        xi, eta = rng.uniform(-100.0, -100.0 + 200.0 - 4 * CORRELATION, 500), rng.uniform(-100.0, 100.0, 500)
        here = realisation.e_hk(xi, eta)
        values.append(here)
        for lag in products:
            products[lag].append(here * realisation.e_hk(xi + lag * CORRELATION, eta))
    values = np.concatenate(values)
    assert values.mean() == pytest.approx(0.0, abs=0.005)
    assert values.std() == pytest.approx(RMS, rel=0.05)
    for lag, product in products.items():
        assert np.mean(np.concatenate(product)) / RMS**2 == pytest.approx(np.exp(-0.5 * lag**2), abs=0.04)


@pytest.fixture(scope="module")
def object_field():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    night = NightSimulation(config["imaging"], REFERENCE)
    return night.object_field(), night.ak_per_ehk


def test_the_screen_reddens_the_stars_behind_it_and_nothing_else(object_field):
    spec, law = object_field
    assert spec.screen.e_hk_rms == 0.0  # off by default
    sequence = UpperMainSequence(REFERENCE)
    without = build_scene(spec, np.random.default_rng(8), sequence, str(REFERENCE), law).stars
    screened = replace(spec, screen=ExtinctionScreen(e_hk_rms=RMS, correlation_arcsec=CORRELATION))
    scene = build_scene(screened, np.random.default_rng(8), sequence, str(REFERENCE), law)
    stars = scene.stars
    assert scene.meta["screen"] == {"e_hk_rms": RMS, "correlation_arcsec": CORRELATION, "distance_kpc": 4.0}
    for column in ("xi", "eta", "population", "absolute_k", "intrinsic_hk", "distance_modulus", "member"):
        np.testing.assert_array_equal(stars[column], without[column])  # the same stars
    extra = np.asarray(stars["e_hk"] - without["e_hk"])
    np.testing.assert_allclose(stars["K"] - without["K"], law * extra, atol=1e-12)
    np.testing.assert_allclose(stars["H"] - without["H"], (law + 1.0) * extra, atol=1e-12)
    behind = np.asarray(stars["distance_modulus"] > distance_modulus(4.0))
    population = np.asarray(stars["population"])
    assert np.all(extra[~behind] == 0.0) and np.all(extra[behind] != 0.0)  # disc stars before it untouched
    assert np.all(behind[population != "disc"]) and 0.2 < behind[population == "disc"].mean() < 0.8
    members = population == "cluster"
    assert scene.meta["cluster"]["e_hk_screen"] == pytest.approx(extra[members].mean(), abs=1e-12)
    assert scene.meta["cluster"]["e_hk"] == 1.14  # the cluster's own, as injected
    background = behind
    # what the stars behind it got varies smoothly: stars within 1" of each other differ far less than the rms
    assert 0.05 < extra[background].std() < 0.2
    positions = np.column_stack([np.asarray(stars["xi"])[background], np.asarray(stars["eta"])[background]])
    pairs = cKDTree(positions).query_pairs(1.0, output_type="ndarray")
    assert len(pairs) > 1000
    assert np.percentile(np.abs(np.diff(extra[background][pairs], axis=1)), 95) < 0.02


def test_the_configured_screen_reaches_every_field():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["imaging"]["simulation"]["extinction_screen"] = {"e_hk_rms": 0.07, "correlation_arcsec": 45.0}
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    specs = NightSimulation(config["imaging"], REFERENCE).fields().values()
    assert {spec.screen for spec in specs} == {ExtinctionScreen(0.07, 45.0, 4.0)}
