"""validation/scene_variants.py: the options choose the scenes they name, and the output files say which."""

import argparse
import importlib.util
import sys

import yaml
from conftest import REPO
from snakemake.utils import validate

from astropipe.simulate.extinction_screen import ExtinctionScreen
from astropipe.simulate.night import NightSimulation

spec = importlib.util.spec_from_file_location("scene_variants", REPO / "validation" / "scene_variants.py")
variants = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = variants
spec.loader.exec_module(variants)


def _parse(*options: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    variants.add_scene_arguments(parser)
    return parser.parse_args(list(options))


def _object_field():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    return NightSimulation(config["imaging"], REPO / "resources" / "reference").object_field()


def test_the_default_options_leave_the_scene_as_configured():
    field = _object_field()
    args = _parse()
    assert variants.scene_variant(field, args) == field
    assert variants.scene_suffix(args) == "" and args.background_reddening is None


def test_each_option_changes_what_it_names_and_the_file_name():
    field = _object_field()
    args = _parse(
        "--reddening-shape",
        "exponential",
        "--screen-rms",
        "0.1",
        "--screen-correlation",
        "60",
        "--background-reddening",
        "never",
    )
    variant = variants.scene_variant(field, args)
    assert variant.cluster.differential_e_hk_shape == "exponential"
    assert variant.screen == ExtinctionScreen(e_hk_rms=0.1, correlation_arcsec=60.0, distance_kpc=4.0)
    assert variant.cluster.e_hk == field.cluster.e_hk and variant.bulge_density == field.bulge_density
    assert variants.scene_suffix(args) == "_reddening_exponential_screen0.1_60arcsec_background_never"
    assert variants.scene_meta(args) == {
        "reddening_shape": "exponential",
        "screen_e_hk_rms": 0.1,
        "screen_correlation_arcsec": 60.0,
        "background_reddening": "never",
    }
    settings = {"annuli": 3, "background_reddening": {"mode": "auto", "neighbours": 30}}
    assert variants.decontamination_settings(settings, args) == {
        "annuli": 3,
        "background_reddening": {"mode": "never", "neighbours": 30},
    }
    assert variants.decontamination_settings(settings, _parse()) is settings
