"""Star-based registration: known sub-pixel dithers are recovered, and the reference's cache changes nothing."""

import numpy as np
import pytest

from astropipe.reduce.registration import (
    ReferenceStars,
    RegistrationError,
    prepare_for_correlation,
    refine_offset,
    refine_with_stars,
)

SHAPE = (300, 300)
SIGMA_PX = 1.5
NOISE = 5.0


def _frame(rng, x, y, flux):
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
    image = rng.normal(0.0, NOISE, SHAPE)
    for xc, yc, f in zip(x, y, flux, strict=True):
        image += f / (2 * np.pi * SIGMA_PX**2) * np.exp(-((xx - xc) ** 2 + (yy - yc) ** 2) / (2 * SIGMA_PX**2))
    return image


@pytest.fixture(scope="module")
def sequence():
    rng = np.random.default_rng(11)
    x, y, flux = rng.uniform(-20, 320, 60), rng.uniform(-20, 320, 60), 10 ** rng.uniform(3.5, 4.5, 60)
    dithers = np.array([[0.0, 0.0], [12.3, -7.6], [-18.45, 3.2], [5.05, 21.7]])
    return [_frame(rng, x + dx, y + dy, flux) for dx, dy in dithers], dithers


def test_known_dithers_are_recovered(sequence):
    frames, dithers = sequence
    stars = ReferenceStars(frames[0], NOISE)
    for frame, dither in zip(frames[1:], dithers[1:], strict=True):
        found = refine_with_stars(stars, frame, tuple(np.round(dither)))
        np.testing.assert_allclose(found, dither, atol=0.01)


def test_cached_reference_centroids_give_the_same_offsets_as_fresh_ones(sequence):
    frames, dithers = sequence
    shared = ReferenceStars(frames[0], NOISE)
    used = []
    for frame, dither in zip(frames[1:], dithers[1:], strict=True):
        guess = tuple(np.round(dither))
        # a fresh ReferenceStars has an empty cache: every centroid is computed for this frame alone
        assert refine_with_stars(shared, frame, guess) == refine_with_stars(
            ReferenceStars(frames[0], NOISE), frame, guess
        )
        used.append(set(shared.brightest(11 + int(np.max(np.abs(guess))) + 2, 40).tolist()))
    # each reference star was centroided once, though the frames share most of them
    assert len(shared._centroids) == len(set.union(*used)) < sum(len(u) for u in used)


def test_brightest_keeps_the_border_and_orders_by_peak(sequence):
    frames, _ = sequence
    stars = ReferenceStars(frames[0], NOISE)
    index = stars.brightest(40, 10)
    assert np.all(np.diff(stars.peak[index]) <= 0)
    assert np.all((stars.x[index] >= 40) & (stars.x[index] < SHAPE[1] - 40))
    assert np.all((stars.y[index] >= 40) & (stars.y[index] < SHAPE[0] - 40))


def test_too_few_stars_stop_the_registration_instead_of_keeping_the_guess(sequence):
    frames, _ = sequence
    saturated_below_everything = ReferenceStars(frames[0], NOISE, peak_max=0.0)
    with pytest.raises(RegistrationError, match="only 0 bright unsaturated stars were found in both frames"):
        refine_with_stars(saturated_below_everything, frames[1], (12.0, -8.0))


def test_a_header_offset_beyond_the_search_box_is_refused(sequence):
    frames, dithers = sequence
    reference, image = (prepare_for_correlation(f, NOISE) for f in frames[:2])
    wrong = tuple(np.round(dithers[1]) + 20.0)
    with pytest.raises(RegistrationError, match="edge of the 5-pixel search box"):
        refine_offset(reference, image, wrong, search=5)
