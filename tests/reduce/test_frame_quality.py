"""Per-frame transparency and seeing recovered from synthetic frames, and cosmic rays rejected by the combine."""

import numpy as np
import pytest

from astropipe.reduce.frame_quality import combine_weights, measure_frame_quality
from astropipe.reduce.stack import canvas_margin, combine, place_on_canvas
from astropipe.simulate.detector import DetectorModel, cosmic_ray_hits
from astropipe.simulate.psf import render_stars

SHAPE = (512, 512)
SCALES = np.array([1.0, 0.97, 0.99, 0.94, 1.01, 0.98])
FWHMS = np.array([4.6, 5.0, 5.6, 6.2, 5.2, 4.8])
NOISE = 8.0


@pytest.fixture(scope="module")
def sequence():
    """Six dithered frames of one star field with known transparency, seeing, noise and bad pixels."""
    rng = np.random.default_rng(11)
    n = 400  # counts doubling per magnitude (dN/dm ~ 10^(0.3 m)) over 7 magnitudes below 2 x 10^5
    x, y = rng.uniform(20, 492, n), rng.uniform(20, 492, n)
    fainter = np.log10(1.0 + rng.random(n) * (10 ** (0.3 * 7.0) - 1.0)) / 0.3
    flux = 2.0e5 * 10 ** (-0.4 * fainter)
    offsets = np.vstack([[0.0, 0.0], rng.uniform(-12, 12, (len(SCALES) - 1, 2))])
    frames = []
    for scale, fwhm, (dx, dy) in zip(SCALES, FWHMS, offsets, strict=True):
        frame = render_stars(SHAPE, x + dx, y + dy, scale * flux, fwhm, 3.0) + NOISE * rng.standard_normal(SHAPE)
        frame[rng.random(SHAPE) < 1e-3] = np.nan
        frames.append(frame)
    bright = np.argsort(-flux)[:60]
    return frames, offsets, x[bright], y[bright]


def test_flux_scales_and_seeing_are_recovered(sequence):
    frames, offsets, x, y = sequence
    quality = measure_frame_quality(frames, offsets, x, y, fwhm_guess_px=5.0)
    expected = SCALES / np.median(SCALES)
    np.testing.assert_allclose(quality.scale, expected, atol=5e-3)
    assert np.all(np.abs(quality.scale - expected) < 4 * quality.scale_err + 1e-3)
    # a Gaussian fitted to a Moffat (beta = 3) is ~12 % wider than the Moffat's FWHM, the same for every frame
    ratio = quality.fwhm_px / FWHMS
    assert 1.0 < np.median(ratio) < 1.2
    np.testing.assert_allclose(ratio, np.median(ratio), rtol=0.03)
    assert np.all(quality.n_stars >= 8)


def test_point_source_weights_favour_transparent_sharp_frames(sequence):
    frames, offsets, x, y = sequence
    quality = measure_frame_quality(frames, offsets, x, y, fwhm_guess_px=5.0)
    weights = combine_weights(quality, np.full(len(frames), 1000.0))
    assert weights.mean() == pytest.approx(1.0)
    expected = SCALES**2 / FWHMS**2
    np.testing.assert_allclose(weights, expected / expected.mean(), rtol=0.12)
    assert np.argmax(weights) == np.argmax(expected) and np.argmin(weights) == np.argmin(expected)


def test_too_few_stars_is_an_error_that_names_the_frame(sequence):
    frames, offsets, x, y = sequence
    blank = [f.copy() for f in frames]
    blank[2][:] = np.nan
    with pytest.raises(ValueError, match="frame 2 of the sequence: no star of the frame gave a plausible FWHM"):
        measure_frame_quality(blank, offsets, x, y, fwhm_guess_px=5.0)


def test_cosmic_rays_are_rejected_by_the_clipped_combine():
    """Frames of one scene with cosmic rays: the stack is the scene within its noise, with no trace of a hit."""
    rng = np.random.default_rng(5)
    model = DetectorModel(shape=(200, 200), cosmic_ray_rate=10.0)  # 200 times SOFI's rate: ~ 40 events per frame
    scene = render_stars(
        (200, 200), rng.uniform(10, 190, 40), rng.uniform(10, 190, 40), 10 ** rng.uniform(3.5, 5, 40), 5.0, 3.0
    )
    hits = [cosmic_ray_hits(model, 30.0, rng) / model.gain for _ in range(5)]
    assert sum(int((h > 0).sum()) for h in hits) > 300
    offsets = np.zeros((5, 2))
    margin = canvas_margin(offsets)
    placed = [
        place_on_canvas(scene + h + NOISE * rng.standard_normal(scene.shape), o, margin)[0]
        for h, o in zip(hits, offsets, strict=True)
    ]
    stack, used = combine(placed, np.ones(5))
    residual = (stack - place_on_canvas(scene, (0.0, 0.0), margin)[0])[margin:-margin, margin:-margin]
    hit_any = np.sum(hits, axis=0) > 0
    assert np.abs(residual[hit_any]).max() < 6 * NOISE
    assert np.std(residual[hit_any]) < 1.5 * NOISE / np.sqrt(4)
    assert used[margin:-margin, margin:-margin][hit_any].min() >= 2  # a hit removes one frame, rarely two


def test_cosmic_ray_rate_and_charge():
    model = DetectorModel(shape=(256, 256))
    rng = np.random.default_rng(3)
    area = (256 * model.pixel_size_um * 1e-4) ** 2
    totals = [cosmic_ray_hits(model, 1000.0, rng).sum() for _ in range(20)]
    expected_events = model.cosmic_ray_rate * area * 1000.0
    # mean charge per event: the log-normal's mean, median x exp((0.3 ln 10)^2 / 2)
    mean_charge = model.cosmic_ray_electrons * np.exp((0.3 * np.log(10)) ** 2 / 2)
    assert np.mean(totals) == pytest.approx(expected_events * mean_charge, rel=0.15)
    assert cosmic_ray_hits(DetectorModel(shape=(64, 64), cosmic_ray_rate=0.0), 30.0, rng).sum() == 0.0
