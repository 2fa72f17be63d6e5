"""Completeness per star and luminosity-function histograms (astropipe.cmd.artificial_star_response, astropipe.cmd.luminosity)."""

import numpy as np
from astropy.table import Table

from astropipe.cmd.artificial_star_response import completeness_at, completeness_model
from astropipe.cmd.luminosity import completeness_weights, histogram


def test_completeness_helpers():
    table = Table({"mag_lo": [-12.0, -11.0, -10.0], "mag_hi": [-11.0, -10.0, -9.0], "completeness": [1.0, 0.8, 0.3]})
    # calibrated = instrumental + 22: bin centres at 10.5, 11.5, 12.5
    np.testing.assert_allclose(completeness_at(table, np.array([10.5, 12.0, 14.0]), 22.0), [1.0, 0.55, 0.0])
    both = completeness_model(table, 22.0, table, 21.0)  # K bin centres at 9.5, 10.5, 11.5
    np.testing.assert_allclose(both(np.array([11.5, 12.5]), np.array([9.0, 11.5])), [0.8 * 1.0, 0.3 * 0.3])
    weights = completeness_weights(np.array([1.0, 0.8, 0.3]), np.array([0.5, 1.0, 1.0]), level=0.5)
    np.testing.assert_allclose(weights[:2], [2.0, 1.25])
    assert np.isnan(weights[2])
    counts, errors = histogram(
        np.array([10.2, 10.4, 11.5, 12.5]),
        np.array([10.0, 11.0, 12.0, 13.0]),
        np.array([1.0, 2.0, 1.0, np.nan]),
        scale=0.5,
    )
    np.testing.assert_allclose(counts[:2], [1.5, 0.5])
    np.testing.assert_allclose(errors[0], 0.5 * np.sqrt(5.0))
    assert np.isnan(counts[2])
