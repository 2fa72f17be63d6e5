"""The simulated detector: noise, saturation, non-linearity, defects, variable pixels (astropipe.simulate.detector)."""

import numpy as np
import pytest

from astropipe.reduce.calibration import bad_pixel_mask
from astropipe.simulate.detector import DetectorModel, detector_maps, expose


def _uniform_detector(shape: tuple[int, int], **effects) -> DetectorModel:
    """A detector with a uniform response and no defects, cosmic rays, variable pixels or non-linearity."""
    uniform = {
        "flat_rms": 0.0,
        "illumination_amplitude": 0.0,
        "hot_fraction": 0.0,
        "dead_fraction": 0.0,
        "bad_column": None,
        "nonlinearity_at_10000_adu": 0.0,
        "cosmic_ray_rate": 0.0,
        "variable_fraction": 0.0,
    }
    return DetectorModel(shape=shape, **(uniform | effects))


@pytest.mark.parametrize(("rate", "ndit"), [(0.0, 1), (0.0, 4), (200.0, 1), (200.0, 3)])
def test_noise_matches_gain_read_noise_and_shot_noise(rate, ndit):
    model = _uniform_detector((256, 256), crosstalk_coefficient=0.0)
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
    model = DetectorModel(shape=(64, 64), bad_column=10, cosmic_ray_rate=0.0, crosstalk_coefficient=0.0)
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


def test_row_crosstalk_gives_the_rows_read_together_their_summed_signal_times_the_coefficient():
    """Finger & Nicolini's measurement: a fully illuminated row puts 1.5 % of its level into the dark row
    read at the same time, half an array away; every other row reads only the dark level."""
    model = _uniform_detector((64, 1024), read_noise=0.0, dark_current=0.0)
    maps = detector_maps(model, np.random.default_rng(8))
    rate = np.zeros(model.shape)
    rate[10] = 100.0  # ADU/s along row 10
    raw = expose(model, maps, rate, 100.0, 1, np.random.default_rng(9)).astype(float) - model.reset_level
    level, kappa_columns = np.mean(raw[10]), model.crosstalk_coefficient * model.shape[1]
    # the illuminated row reads its own signal I plus the same kappa x 1024 I: the ratio is kappa N / (1 + kappa N)
    assert np.mean(raw[10 + 32]) / level == pytest.approx(kappa_columns / (1 + kappa_columns), rel=1e-4)
    assert np.mean(raw[10 + 32]) / level == pytest.approx(0.015, rel=0.03)
    assert np.all(np.delete(raw, [10, 42], axis=0) == 0.0)


def test_row_crosstalk_of_a_star_field_is_the_pair_sums_and_moves_with_the_stars():
    base = {"shape": (128, 128), "cosmic_ray_rate": 0.0, "variable_fraction": 0.0, "bad_column": None}
    with_crosstalk, without = DetectorModel(**base), DetectorModel(**base, crosstalk_coefficient=0.0)
    maps = detector_maps(without, np.random.default_rng(10))
    rate = np.full(without.shape, 5.0)
    rate[20:23, 40:43] = 2.0e4  # a bright star on rows 20-22
    on, off = (
        expose(model, maps, rate, 10.0, 2, np.random.default_rng(11)).astype(float) - model.reset_level
        for model in (with_crosstalk, without)
    )
    pair_sum = off[:64].sum(axis=1) + off[64:].sum(axis=1)
    expected = with_crosstalk.crosstalk_coefficient * np.concatenate([pair_sum, pair_sum])
    np.testing.assert_allclose((on - off).mean(axis=1), expected, rtol=1e-4, atol=2e-3)
    stripe = (on - off)[[20, 21, 22, 84, 85, 86]].mean() - (on - off)[[0, 40, 100]].mean()
    assert stripe > 0.5  # ADU: the star's rows and their partners stand out
