"""The linearity correction against the simulated array, whose non-linearity has a different functional form."""

import numpy as np
import pytest

from astropipe.reduce.calibration import calibrate_frame
from astropipe.reduce.linearity import SOFI_2007, linearity_factor, linearize
from astropipe.simulate.detector import DetectorModel, measured_counts

LEVELS = np.array([500.0, 2000.0, 5000.0, 8000.0, 10000.0, 12000.0, 13500.0, 14500.0])


def test_simulated_array_follows_the_documented_sofi_non_linearity():
    # La Silla: linear to 0.1 % up to about 5000 ADU, about 1 % low at 13000-14000 ADU
    loss = 1.0 - measured_counts(DetectorModel(), LEVELS) / LEVELS
    assert loss[LEVELS <= 5000].max() <= 0.0011
    assert 0.008 < loss[LEVELS == 13500][0] < 0.012
    assert np.all(np.diff(loss) > 0)


def test_sofi_polynomial_removes_most_of_the_array_non_linearity():
    measured = measured_counts(DetectorModel(), LEVELS)
    corrected = linearize(measured, SOFI_2007)
    residual, uncorrected = np.abs(corrected / LEVELS - 1.0), np.abs(measured / LEVELS - 1.0)
    assert residual.max() < 2.5e-3
    assert np.all(residual[LEVELS >= 8000] < 0.4 * uncorrected[LEVELS >= 8000])


def test_linear_array_and_empty_coefficients_leave_counts_alone():
    counts = np.array([-30.0, 0.0, 1234.5, 14000.0])
    np.testing.assert_array_equal(linearize(counts, []), counts)
    np.testing.assert_array_equal(measured_counts(DetectorModel(nonlinearity_at_10000_adu=0.0), counts), counts)
    # negative counts (read noise) take the factor of zero counts
    assert linearity_factor(-30.0, SOFI_2007) == pytest.approx(SOFI_2007[0])


def test_calibrate_frame_corrects_above_the_dark_level():
    dark = np.full((4, 4), 250.0)
    true = np.full((4, 4), 12000.0)
    raw = dark + measured_counts(DetectorModel(), true)
    bad = np.zeros((4, 4), bool)
    bad[0, 0] = True
    flat = np.ones((4, 4))
    corrected = calibrate_frame(raw, dark, flat, bad, SOFI_2007)
    assert np.isnan(corrected[0, 0])
    assert np.nanmax(np.abs(corrected / true - 1.0)) < 2e-3
    assert np.nanmax(np.abs(calibrate_frame(raw, dark, flat, bad) / true - 1.0)) > 7e-3
