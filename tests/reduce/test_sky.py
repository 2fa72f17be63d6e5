"""The running sky's per-pixel median (astropipe.reduce.sky)."""

import warnings

import numpy as np
import pytest

from astropipe.reduce.sky import median_of_frames


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_frames", [1, 2, 3, 4, 7, 8])
def test_median_of_frames_is_numpys_nanmedian(n_frames, dtype):
    """Odd and even counts of finite values, all-NaN pixels: the same numbers, bit for bit."""
    rng = np.random.default_rng(n_frames)
    cube = rng.normal(100.0, 5.0, size=(n_frames, 60, 70)).astype(dtype)
    cube[rng.random(cube.shape) < 0.4] = np.nan
    cube[:, 0, :5] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns about the all-NaN pixels
        expected = np.nanmedian(cube, axis=0)
    found = median_of_frames(cube)
    assert found.dtype == expected.dtype
    np.testing.assert_array_equal(found, expected)
    assert np.isnan(found[0, :5]).all()
