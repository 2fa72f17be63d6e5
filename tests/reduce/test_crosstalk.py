"""Removal of the inter-quadrant row cross-talk (astropipe.reduce.crosstalk)."""

import numpy as np
import pytest

from astropipe.reduce.calibration import calibrate_frame
from astropipe.reduce.crosstalk import SOFI_ROW_CROSSTALK, remove_row_crosstalk
from astropipe.simulate.detector import DetectorModel, add_row_crosstalk, detector_maps, expose


def test_the_correction_inverts_the_simulators_crosstalk_on_a_frame_of_stars():
    rng = np.random.default_rng(1)
    true = rng.normal(2500.0, 12.0, (256, 256))
    rows, columns = rng.integers(0, 256, 40), rng.integers(0, 256, 40)
    true[rows, columns] += rng.uniform(1e4, 1.5e4, 40)  # saturated cores
    measured = add_row_crosstalk(true, SOFI_ROW_CROSSTALK)
    assert np.abs(measured - true).max() > 2.0
    np.testing.assert_allclose(remove_row_crosstalk(measured, SOFI_ROW_CROSSTALK), true, rtol=0, atol=1e-9)


def test_no_coefficient_leaves_the_counts_and_an_odd_number_of_rows_is_refused():
    counts = np.ones((5, 4))
    assert remove_row_crosstalk(counts, 0.0) is counts
    with pytest.raises(ValueError, match=r"r \+ N/2.*\(5, 4\)"):
        remove_row_crosstalk(counts, SOFI_ROW_CROSSTALK)


def test_a_calibrated_frame_has_no_stripe_where_a_bright_star_drew_one():
    """Through the pipeline's frame calibration: the rows of a bright star and those half an array away
    read like the others once the cross-talk is removed (the frame's own master dark as reset level)."""
    model = DetectorModel(shape=(256, 256), cosmic_ray_rate=0.0, variable_fraction=0.0, bad_column=None)
    maps = detector_maps(model, np.random.default_rng(2))
    rate = np.full(model.shape, 100.0)
    rate[100:104, :30] = 1.0e5  # a bright star's saturated core on rows 100-103
    raw = expose(model, maps, rate, 10.0, 3, np.random.default_rng(3)).astype(float)
    dark = expose(model, maps, np.zeros(model.shape), 10.0, 3, np.random.default_rng(4)).astype(float)
    flat, bad = maps.sky_response, maps.bad | (maps.sky_response <= 0)

    def stripe(image):
        rows = np.nanmean(image[:, 40:], axis=1)
        partner = rows[[228, 229, 230, 231]].mean()
        return partner - np.median(rows)

    uncorrected = calibrate_frame(raw, dark, flat, bad)
    corrected = calibrate_frame(raw, dark, flat, bad, crosstalk=model.crosstalk_coefficient)
    # kappa x 30 saturated pixels x 15000 ADU = 6.6 ADU per pixel of the pair; a row's mean is good to 0.5 ADU
    assert stripe(uncorrected) > 4.0
    assert abs(stripe(corrected)) < 1.0
