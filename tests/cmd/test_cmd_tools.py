"""Colour mixture, luminosity-function helpers and decontamination against known inputs."""

import numpy as np
import pytest
from astropy.table import Table
from scipy.special import ndtr

from astropipe.cmd.artificial_star_response import colour_error_distribution, completeness_at, completeness_model
from astropipe.cmd.decontaminate import decontaminate
from astropipe.cmd.luminosity import completeness_weights, histogram
from astropipe.cmd.sequences import locate_sequences


def test_sequences_are_found_at_the_peaks_of_skewed_distributions():
    rng = np.random.default_rng(0)
    # blue: Gaussian at 0.25; red: a narrow clump at 1.10 on a broad tail to the blue (giant branch, errors)
    colours = np.concatenate(
        [rng.normal(0.25, 0.12, 1500), rng.normal(1.10, 0.05, 1200), 1.10 - rng.exponential(0.25, 1300)]
    )
    sequences = locate_sequences(colours, bootstrap=30)
    assert sequences.peaks[0] == pytest.approx(0.25, abs=0.03)
    assert sequences.peaks[1] == pytest.approx(1.10, abs=0.03)  # the blue tail pulls the smoothed mode
    assert 0.5 < sequences.valleys[0] < 0.8
    # the medians of the stars either side of the valley: the blue Gaussian's centre, the red clump + tail's median
    red = colours[colours > sequences.valleys[0]]
    assert sequences.medians[0] == pytest.approx(0.25, abs=0.02)
    assert sequences.medians[1] == pytest.approx(np.median(red), abs=1e-12)
    assert 0 < sequences.medians_err[1] < 0.02
    with pytest.raises(ValueError, match="needs at least 40"):
        locate_sequences(colours[:10])
    with pytest.raises(ValueError, match="1 peaks; 2 sequences expected"):
        locate_sequences(rng.normal(0.5, 0.1, 500))


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


def _artificial_stars(rng, n, errors):
    """Injected stars at instrumental -12 ... -6 (calibrated 10 ... 16 with offset 22), 10 % lost, errors drawn by ``errors``."""
    mag_in = rng.uniform(-12.0, -6.0, n)
    return Table({"mag_in": mag_in, "mag_out": mag_in + errors(rng, n), "recovered": rng.random(n) > 0.1})


def test_colour_error_distribution_is_the_convolution_of_the_two_bands():
    rng = np.random.default_rng(5)
    injected_h = _artificial_stars(rng, 20000, lambda rng, n: rng.normal(0.02, 0.05, n))  # biased 0.02 faint
    tail = lambda rng, n: np.where(rng.random(n) < 0.2, rng.normal(0.0, 0.5, n), rng.normal(0.0, 0.1, n))  # noqa: E731
    injected_k = _artificial_stars(rng, 20000, tail)
    errors = colour_error_distribution(injected_h, 22.0, injected_k, 21.0, (10.0, 16.0), (9.0, 15.0))
    delta = np.linspace(-1.0, 1.0, 81)
    # H - K error = dH - dK: N(0.02, 0.05) minus 0.8 N(0, 0.1) + 0.2 N(0, 0.5), smoothed by 0.02
    expected = 0.8 * ndtr((delta - 0.02) / np.sqrt(0.05**2 + 0.1**2 + 0.02**2)) + 0.2 * ndtr(
        (delta - 0.02) / np.sqrt(0.05**2 + 0.5**2 + 0.02**2)
    )
    for h, k in ((12.0, 11.0), (15.5, 14.0)):
        measured = errors(delta, np.full(delta.size, h), np.full(delta.size, k))
        assert np.max(np.abs(measured - expected)) < 0.02  # sampling noise 0.01; half a tabulation step off: 0.02-0.03
    assert errors(np.array([-5.0, 5.0]), np.array([12.0, 12.0]), np.array([11.0, 11.0])) == pytest.approx([0.0, 1.0])
    # the 16-84 % half-width lies between the core's sigma (0.115) and the whole distribution's (0.16)
    assert 0.115 < errors.halfwidth_68(12.0, 11.0) < 0.16


def test_colour_error_distribution_takes_the_nearest_stars_where_a_bin_is_sparse():
    rng = np.random.default_rng(6)
    bright = Table(
        {"mag_in": np.full(30, -11.0), "mag_out": -11.0 + rng.normal(0.0, 0.01, 30), "recovered": np.ones(30, bool)}
    )
    faint = Table(
        {"mag_in": np.full(30, -7.0), "mag_out": -7.0 + rng.normal(0.0, 0.3, 30), "recovered": np.ones(30, bool)}
    )
    both = Table(np.concatenate([bright.as_array(), faint.as_array()]))
    errors = colour_error_distribution(both, 22.0, bright, 22.0, (10.0, 16.0), (10.0, 12.0))
    # no artificial star near H = 12.5 or 14: the 20 nearest are used, at H = 11 and at H = 15 respectively
    assert errors.halfwidth_68(12.5, 11.0) < 0.05 and errors.halfwidth_68(14.0, 11.0) > 0.15
    with pytest.raises(ValueError, match=r"few\.ecsv: 10 recovered artificial stars"):
        colour_error_distribution(both, 22.0, bright[:10], 22.0, (10.0, 16.0), (10.0, 12.0), paths=("H", "few.ecsv"))


def test_decontamination_separates_a_distinct_cluster_and_is_reproducible():
    rng = np.random.default_rng(2)

    # field: a red-giant-like sequence; the object area holds the same field (scaled) plus a redder cluster
    def field_stars(n):
        h = rng.uniform(12, 18, n)
        return 0.9 + 0.05 * rng.standard_normal(n), h

    field_hk, field_h = field_stars(1200)
    obj_field_hk, obj_field_h = field_stars(400)  # area ratio 1/3
    cluster_hk, cluster_h = 1.5 + 0.05 * rng.standard_normal(150), rng.uniform(12, 18, 150)
    hk = np.concatenate([obj_field_hk, cluster_hk])
    h = np.concatenate([obj_field_h, cluster_h])
    result = decontaminate(hk, h, field_hk, field_h, 1 / 3, repeats=30, max_distance=1.0, seed=5)
    member = result.probability >= 0.5
    assert member[400:].mean() > 0.9  # cluster kept
    assert (~member[:400]).mean() > 0.85  # field removed
    assert result.n_subtracted.mean() == pytest.approx(400, abs=5)
    again = decontaminate(hk, h, field_hk, field_h, 1 / 3, repeats=30, max_distance=1.0, seed=5)
    np.testing.assert_array_equal(result.survivors, again.survivors)
    with pytest.raises(ValueError, match="area ratio"):
        decontaminate(hk, h, field_hk, field_h, 0.0)
    with pytest.raises(ValueError, match="non-finite"):
        decontaminate(np.append(hk, np.nan), np.append(h, 12.0), field_hk, field_h, 1 / 3)
