"""Cosmic rays removed from a single standard-star frame: the hits go, the star stays."""

import numpy as np
import pytest

from astropipe.reduce.cosmic_rays import DetectorNoise, remove_cosmic_rays, remove_cosmic_rays_near
from astropipe.simulate.detector import DetectorModel, detector_maps, expose
from astropipe.simulate.psf import render_stars

SHAPE = (256, 256)
STAR = (128.3, 122.7)


def _frame(model: DetectorModel, seed: int) -> np.ndarray:
    maps = detector_maps(model, np.random.default_rng(1))
    scene = render_stars(SHAPE, np.array([STAR[0]]), np.array([STAR[1]]), np.array([3.0e5]), 5.5, 3.0) + 60.0
    raw = expose(model, maps, scene, 2.0, 1, np.random.default_rng(seed)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):  # dead pixels: no response, NaN
        return np.where(maps.sky_response > 0, (raw - model.reset_level) / maps.sky_response, np.nan)


def test_hits_are_replaced_and_the_star_is_kept():
    quiet = {"shape": SHAPE, "hot_fraction": 0.0, "dead_fraction": 0.0, "bad_column": None, "variable_fraction": 0.0}
    hit = _frame(DetectorModel(**quiet, cosmic_ray_rate=60.0), seed=2)  # ~ 27 events on the frame
    clean = _frame(DetectorModel(**quiet, cosmic_ray_rate=0.0), seed=2)  # the same noise, no hits
    struck = np.abs(hit - clean) > 50.0  # hits of more than ~5 sigma of the sky
    assert struck.sum() > 40
    cleaned, mask = remove_cosmic_rays(hit, DetectorNoise(gain=5.4, read_noise=12.0, saturation=15000.0), ndit=1)
    assert mask[struck].mean() > 0.9
    distance = np.hypot(*np.meshgrid(np.arange(SHAPE[1]) - STAR[0], np.arange(SHAPE[0]) - STAR[1]))
    assert not mask[distance < 8].any()  # the star's core is not a cosmic ray
    repaired = np.abs(cleaned - clean)[struck] < 50.0
    assert repaired.mean() > 0.9
    # a hit on the star's core is protected as part of the star (L.A.Cosmic's objlim), one on the array's
    # edge may stay: outside the core and the edge, the star's aperture holds the hit-free flux again
    ring = (distance > 8.0) & (distance < 36.0)
    fluxes = [np.sum((image - 60.0)[ring]) for image in (hit, cleaned, clean)]
    assert abs(fluxes[0] - fluxes[2]) > 5 * abs(fluxes[1] - fluxes[2])
    assert fluxes[1] == pytest.approx(fluxes[2], rel=2e-3)


def test_bad_pixels_stay_bad():
    frame = _frame(DetectorModel(shape=SHAPE, cosmic_ray_rate=0.0), seed=3)
    frame[10:12, 50] = np.nan
    cleaned, mask = remove_cosmic_rays(frame, DetectorNoise(gain=5.4, read_noise=12.0, saturation=15000.0), ndit=2)
    assert np.all(np.isnan(cleaned[10:12, 50])) and not mask[10:12, 50].any()


def test_a_box_is_cleaned_as_the_whole_frame_would_be_and_nothing_outside_it():
    quiet = {"shape": SHAPE, "hot_fraction": 0.0, "dead_fraction": 0.0, "bad_column": None, "variable_fraction": 0.0}
    hit = _frame(DetectorModel(**quiet, cosmic_ray_rate=150.0), seed=4)  # ~ 70 events
    detector = DetectorNoise(gain=5.4, read_noise=12.0, saturation=15000.0)
    whole, whole_mask = remove_cosmic_rays(hit, detector, ndit=1)
    boxed, boxed_mask = remove_cosmic_rays_near(hit, detector, 1, STAR, 60)
    x, y = round(STAR[0]), round(STAR[1])
    inside = np.zeros(SHAPE, dtype=bool)
    inside[y - 50 : y + 51, x - 50 : x + 51] = True  # 10 px inside the box's edges
    assert whole_mask[inside].sum() > 10  # hits in the box to compare
    assert np.array_equal(boxed_mask[inside], whole_mask[inside])
    assert np.allclose(boxed[inside], whole[inside], equal_nan=True)
    outside = np.ones(SHAPE, dtype=bool)
    outside[y - 60 : y + 61, x - 60 : x + 61] = False
    assert whole_mask[outside].sum() > 10 and not boxed_mask[outside].any()
    assert np.array_equal(boxed[outside], hit[outside], equal_nan=True)


def test_a_detector_without_a_positive_gain_is_refused():
    with pytest.raises(ValueError, match=r"detector gain = 0\.0: expected a positive number"):
        DetectorNoise(gain=0.0, read_noise=12.0, saturation=10000.0)
