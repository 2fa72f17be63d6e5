"""One simulated dithered sequence reduced with and without per-frame flux scaling."""

import logging

import numpy as np
import pytest
import yaml
from conftest import CI_CONFIG, REPO
from snakemake.utils import validate

import astropipe.reduce.sequence as sequence_module
from astropipe.reduce.ingest import classify_frames
from astropipe.reduce.linearity import SOFI_2007
from astropipe.reduce.masters import build_masters, load_masters
from astropipe.simulate.night import NightSimulation


@pytest.fixture(scope="module")
def ks_frames(tmp_path_factory):
    """The CI night's Object 11 Ks sequence on a 384-pixel detector, ingested, with its masters."""
    config = yaml.safe_load(CI_CONFIG.read_text())
    config["imaging"]["field_names"] = {"Object 11": "object11"}
    config["imaging"]["simulation"]["detector"]["size"] = 384
    config["imaging"]["simulation"]["illumination_grid"] = 0  # the illumination corrections as product files
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    night = NightSimulation(config["imaging"], REPO / "resources" / "reference")
    directory = tmp_path_factory.mktemp("sequence")
    paths = night.write_calibrations(directory / "calib") + night.write_sequence("object11", "Ks", directory / "ks")
    frames = classify_frames(paths, {"Object 11": "object11"})
    build_masters(frames, directory / "masters", linearity=SOFI_2007)
    science = frames[frames["type"] == "OBJECT"]
    return science, load_masters(directory / "masters", float(science["dit"][0]), "Ks")


def _reduce(ks_frames, **options):
    science, (dark, flat, bad) = ks_frames
    return sequence_module.reduce_sequence(science, dark, flat, bad, search=12, linearity=SOFI_2007, **options)


def test_unmeasurable_scales_fall_back_to_an_unscaled_combine_with_a_warning(ks_frames, monkeypatch, caplog):
    unscaled = _reduce(ks_frames, frame_scaling=False)

    def too_few_stars(*_arguments):
        raise ValueError("frame 3 of the sequence has 2 stars for its flux scale")

    monkeypatch.setattr(sequence_module, "_frame_quality", too_few_stars)
    with caplog.at_level(logging.WARNING):
        fallback = _reduce(ks_frames, frame_scaling=True)
    assert "frames combined without flux scales" in caplog.text and "frame 3 of the sequence" in caplog.text
    assert fallback.header["FLXSCALE"] is False and unscaled.header["FLXSCALE"] is False
    np.testing.assert_array_equal(fallback.image, unscaled.image)
    np.testing.assert_array_equal(np.asarray(fallback.offsets["flux_scale"]), np.ones(len(fallback.offsets)))
    assert "fwhm_arcsec" not in fallback.offsets.colnames


def test_scaled_combine_records_its_scales_and_weights(ks_frames):
    scaled = _reduce(ks_frames, frame_scaling=True)
    table = scaled.offsets
    assert scaled.header["FLXSCALE"] is True
    assert np.median(table["flux_scale"]) == pytest.approx(1.0)
    assert np.mean(table["weight"]) == pytest.approx(1.0)
    assert 1.0 < scaled.header["NEFFECT"] <= len(table)
    assert np.all(table["scale_stars"] >= 6) and np.all(np.isfinite(table["fwhm_arcsec"]))
