"""The constant ePSF under a local linear map (astropipe.photometry.psf_distortion)."""

import numpy as np
import pytest

from astropipe.photometry.psf_distortion import (
    PSFMapError,
    distorted_table,
    fit_map_polynomials,
    fit_star_maps,
    map_degree,
)
from astropipe.photometry.psf_grid import node_positions
from astropipe.photometry.psf_model import PSFModel

OVERSAMPLING = 2


def _moffat_table(fwhm: float = 4.0, beta: float = 3.0, half: int = 14) -> np.ndarray:
    """An oversampled circular Moffat ePSF table spanning +-``half`` detector pixels."""
    g = np.arange(-half * OVERSAMPLING, half * OVERSAMPLING + 1) / OVERSAMPLING
    gx, gy = np.meshgrid(g, g)
    alpha = fwhm / (2.0 * np.sqrt(2 ** (1 / beta) - 1))
    return (1.0 + (gx * gx + gy * gy) / alpha**2) ** (-beta)


def _second_moments(table: np.ndarray) -> np.ndarray:
    g = np.arange(table.shape[0]) - (table.shape[0] - 1) / 2
    gx, gy = np.meshgrid(g, g)
    total = table.sum()
    return (
        np.array(
            [[(table * gx * gx).sum(), (table * gx * gy).sum()], [(table * gx * gy).sum(), (table * gy * gy).sum()]]
        )
        / total
    )


def test_a_mapped_table_keeps_its_flux_and_takes_the_maps_second_moments():
    g = np.arange(-40, 41.0)
    gx, gy = np.meshgrid(g, g)
    gaussian = np.exp(-0.5 * (gx * gx + gy * gy) / 5.0**2)
    a, b, c = 0.2, 0.1, -0.1
    mapped = distorted_table(gaussian, a, b, c)
    matrix = np.array([[1 + a, b], [b, 1 + c]])
    assert mapped.sum() == pytest.approx(gaussian.sum(), rel=1e-3)
    # a Gaussian of covariance S mapped by A has covariance A S A^T
    np.testing.assert_allclose(_second_moments(mapped), matrix @ (25.0 * np.eye(2)) @ matrix.T, rtol=0.01, atol=0.05)


def _stars_with_maps(maps: list[tuple[float, float, float]], per_map: int, rng) -> tuple:
    """A 400^2 image of bright stars on a grid, each group of ``per_map`` drawn with one map of the Moffat."""
    base = _moffat_table()
    grid = np.linspace(30, 370, 8)
    x, y = (
        v.ravel()[: per_map * len(maps)] + rng.uniform(-0.5, 0.5, per_map * len(maps)) for v in np.meshgrid(grid, grid)
    )
    flux = rng.uniform(3e4, 1e5, x.size)
    image = rng.normal(0.0, 2.0, (400, 400))
    for group, stretch in enumerate(maps):
        members = slice(group * per_map, (group + 1) * per_map)
        image += PSFModel(distorted_table(base, *stretch), OVERSAMPLING).image(
            image.shape, x[members], y[members], flux[members]
        )
    return image, x, y, flux, PSFModel(base, OVERSAMPLING)


def test_each_stars_map_and_flux_are_recovered():
    maps = [(0.0, 0.0, 0.0), (0.1, 0.0, 0.25), (-0.05, 0.08, 0.02)]
    image, x, y, flux, constant = _stars_with_maps(maps, 20, np.random.default_rng(3))
    # first fluxes 10 % off, as the constant ePSF's would be for the stretched stars
    fitted, variance, fitted_flux = fit_star_maps(image, x, y, 0.9 * flux, constant, fit_radius=4.0)
    injected = np.repeat(np.array(maps), 20, axis=0)
    np.testing.assert_allclose(fitted, injected, atol=0.01)
    # the errors describe the scatter: pulls of order one
    pulls = (fitted - injected) / np.sqrt(variance)
    assert 0.3 < np.std(pulls) < 3.0
    # the fluxes within two fit radii, not the footprint's: within a few per cent of the injected ones
    np.testing.assert_allclose(fitted_flux / flux, 1.0, atol=0.05)


def test_the_maps_polynomial_is_flat_over_the_centre_steep_at_the_edges_and_drops_outliers():
    rng = np.random.default_rng(4)
    x, y = rng.uniform(0, 511, (2, 400))
    distance = np.abs(y - 255.5) / 255.5
    truth = 0.4 * np.clip((distance - 0.6) / 0.4, 0.0, 1.0) ** 2
    values = np.column_stack([truth, np.zeros_like(truth), 2 * truth]) + rng.normal(0.0, 0.01, (400, 3))
    values[:12] += 0.5  # blends: far off the map
    nodes = node_positions((512, 512), 9)
    xs, ys = np.unique(nodes[:, 0]), np.unique(nodes[:, 1])
    node_values, kept, degree = fit_map_polynomials(x, y, values, np.full((400, 3), 1e-4), xs, ys)
    assert degree == 4
    assert not kept[:12].any() and kept[12:].mean() > 0.97
    rows = node_values[:, 0].reshape(9, 9)
    # the simulator's distortion, zero to 0.6 of the half-height and quadratic beyond: the quartic stays flat
    # over the centre (|v| <= 0.5, node rows 2..6; the best quartic is 0.015 off there) and the outer rows take
    # the edge's value
    assert np.abs(rows[2:7].mean(axis=1)).max() < 0.015 and np.abs(rows[2:7]).max() < 0.04
    node_distance = np.abs(ys - 255.5) / 255.5
    expected_rows = 0.4 * np.clip((node_distance - 0.6) / 0.4, 0.0, 1.0) ** 2
    np.testing.assert_allclose(rows[[0, 8]].mean(axis=1), expected_rows[[0, 8]], atol=0.05)
    # each component on its own: the third, twice as steep
    np.testing.assert_allclose(
        node_values[:, 2].reshape(9, 9)[[0, 8]].mean(axis=1), 2 * expected_rows[[0, 8]], atol=0.1
    )
    assert np.abs(node_values[:, 1]).max() < 0.04


def test_the_map_keeps_the_weight_of_the_bright_stars_when_all_scatter_beyond_their_errors():
    """On a stack every star scatters about the smooth map by more than its fit's error, in proportion to it
    (neighbours' light, the mix of frames): scaling the variances keeps the bright stars' weight, where adding
    one excess to every variance would weigh 60 bright stars like 240 faint ones ten times noisier."""
    rng = np.random.default_rng(6)
    x, y = rng.uniform(0, 511, (2, 300))
    v = (y - 255.5) / 255.5
    truth = 0.05 * v**2 + 0.02 * (x - 255.5) / 255.5
    error = np.where(np.arange(300) < 60, 0.004, 0.04)
    values = (truth + 5.0 * error * rng.standard_normal(300))[:, None] * np.ones(3)
    nodes = node_positions((512, 512), 9)
    xs, ys = np.unique(nodes[:, 0]), np.unique(nodes[:, 1])
    node_values, kept, _ = fit_map_polynomials(x, y, values, np.repeat(error[:, None] ** 2, 3, axis=1), xs, ys)
    grid_x, grid_y = np.meshgrid(xs, ys)
    node_truth = 0.05 * ((grid_y.ravel() - 255.5) / 255.5) ** 2 + 0.02 * (grid_x.ravel() - 255.5) / 255.5
    # the 60 bright stars' 0.02 scatter over 15 terms: ~0.01; the faint stars' 0.2 with equal weights: ~0.05
    assert np.sqrt(np.mean((node_values[:, 0] - node_truth) ** 2)) < 0.02
    assert kept.mean() > 0.95


@pytest.mark.parametrize(("n_stars", "degree"), [(300, 4), (45, 4), (44, 3), (30, 3), (18, 2), (9, 1), (5, 0)])
def test_fewer_stars_lower_the_maps_degree(n_stars, degree):
    assert map_degree(n_stars) == degree


def test_too_few_stars_to_map_are_refused_by_name():
    nodes = node_positions((512, 512), 9)
    xs, ys = np.unique(nodes[:, 0]), np.unique(nodes[:, 1])
    values = np.zeros((6, 3))
    values[2:] = np.nan  # four stars whose fits failed
    with pytest.raises(PSFMapError, match="only 2 PSF stars with a fitted map"):
        fit_map_polynomials(np.arange(6.0), np.arange(6.0), values, np.ones((6, 3)), xs, ys)


def test_the_map_acts_on_the_core_and_leaves_the_wings():
    table = _moffat_table()
    centre = (table.shape[0] - 1) / 2
    g = np.arange(table.shape[0]) - centre
    radius = np.hypot(*np.meshgrid(g, g))
    mapped = distorted_table(table, 0.2, 0.0, 0.2, core_radius=10.0)
    whole = distorted_table(table, 0.2, 0.0, 0.2)
    np.testing.assert_array_equal(mapped[radius <= 10.0], whole[radius <= 10.0])
    np.testing.assert_array_equal(mapped[radius >= 15.0], table[radius >= 15.0])
