"""The simulated detector: noise, saturation, non-linearity, defects, variable pixels (astropipe.simulate.detector)."""

import numpy as np
import pytest

from astropipe.reduce.calibration import bad_pixel_mask
from astropipe.simulate.detector import DetectorModel, detector_maps, expose


@pytest.mark.parametrize(("rate", "ndit"), [(0.0, 1), (0.0, 4), (200.0, 1), (200.0, 3)])
def test_noise_matches_gain_read_noise_and_shot_noise(rate, ndit):
    model = DetectorModel(
        shape=(256, 256),
        flat_rms=0.0,
        illumination_amplitude=0.0,
        hot_fraction=0.0,
        dead_fraction=0.0,
        bad_column=None,
        nonlinearity_at_10000_adu=0.0,
        cosmic_ray_rate=0.0,
        variable_fraction=0.0,
    )
    maps = detector_maps(model, np.random.default_rng(3))
    dit = 20.0
    frames = [
        expose(model, maps, np.full(model.shape, rate), dit, ndit, np.random.default_rng(s)).astype(float)
        for s in (10, 11)
    ]
    measured = np.std(frames[0] - frames[1]) / np.sqrt(2)
    electrons = (rate * model.gain + model.dark_current) * dit
    expected = np.sqrt((electrons + model.read_noise**2) / ndit) / model.gain
    assert measured == pytest.approx(expected, rel=0.03)
    assert np.mean(frames[0]) == pytest.approx(model.reset_level + electrons / model.gain, rel=1e-3)


def test_saturation_nonlinearity_and_defects():
    model = DetectorModel(shape=(64, 64), bad_column=10, cosmic_ray_rate=0.0)
    maps = detector_maps(model, np.random.default_rng(4))
    # far beyond saturation every good pixel reads the saturation level (no roll-over below it)
    raw = expose(model, maps, np.full(model.shape, 1e6), 10.0, 1, np.random.default_rng(5))
    good = ~maps.bad
    assert raw.max() <= model.saturation + model.reset_level
    assert np.all(raw[good] == model.saturation + model.reset_level)
    assert np.all(raw[:, 10] == model.reset_level + 0.5 * model.saturation)
    moderate = expose(model, maps, np.full(model.shape, 1000.0), 10.0, 1, np.random.default_rng(6))
    linear = 1000.0 * 10.0 * maps.sky_response[good]
    ratio = np.median((moderate[good] - model.reset_level) / linear)
    assert ratio == pytest.approx(1 - model.nonlinearity_at_10000_adu, abs=2e-3)


def test_variable_pixels_switch_between_frames_and_hide_from_a_median_dark():
    model = DetectorModel(shape=(128, 128), cosmic_ray_rate=0.0, variable_fraction=0.01)
    maps = detector_maps(model, np.random.default_rng(7))
    variable = maps.variable_excess > 0
    assert 0.005 < variable.mean() < 0.015
    darks = np.array([expose(model, maps, np.zeros(model.shape), 30.0, 1, np.random.default_rng(s)) for s in range(9)])
    high = darks[:, variable] - np.median(darks[:, ~variable & ~maps.bad]) > 100.0
    # each variable pixel is in its high state in about variable_duty of the frames
    assert high.mean() == pytest.approx(model.variable_duty, abs=0.05)
    # the pipeline's hot-pixel test on a median of three darks catches only those high in two of them
    flagged = bad_pixel_mask(np.ones(model.shape), np.median(darks[:3], axis=0))[variable]
    assert 0.05 < flagged.mean() < 0.45
