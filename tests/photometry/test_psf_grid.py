"""ePSFs on a grid of nodes, interpolated bilinearly (astropipe.photometry.psf_grid)."""

import numpy as np
import pytest

from astropipe.photometry.fit_engines import fit_with_engine
from astropipe.photometry.pipeline import PSFPasses
from astropipe.photometry.psf_file import read_psf_file, write_psf_file
from astropipe.photometry.psf_grid import VaryingPSFModel
from astropipe.photometry.psf_model import PSFModel

NODES = np.array([(x, y) for y in (20.0, 180.0) for x in (20.0, 180.0)])


def _moffat(fwhm: float, size: int = 31, oversampling: int = 2) -> np.ndarray:
    offsets = (np.arange(size) - (size - 1) / 2) / oversampling
    r2 = offsets[None, :] ** 2 + offsets[:, None] ** 2
    return (1 + r2 / (fwhm / 1.0197) ** 2) ** -3.0


def test_identical_nodes_give_the_constant_psf():
    data = _moffat(3.0)
    constant = PSFModel(data, 2)
    grid = VaryingPSFModel(np.array([data] * 4), NODES, 2)
    x, y = np.array([5.3, 100.7, 250.2]), np.array([90.1, 30.6, 170.9])
    a, b = constant.stamps(x, y, gradients=True), grid.stamps(x, y, gradients=True)
    np.testing.assert_array_equal(a.px, b.px)
    for name in ("values", "grad_x", "grad_y"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), atol=1e-7)


def test_bilinear_weights_are_one_at_a_node_a_quarter_between_four_and_clamped_beyond():
    grid = VaryingPSFModel(np.array([_moffat(3.0)] * 4), NODES, 2)
    index, weight = grid.weights(np.array([20.0, 100.0, -50.0]), np.array([180.0, 100.0, 500.0]))
    assert weight[0][index[0] == 2].sum() == pytest.approx(1.0)  # node (20, 180)
    np.testing.assert_allclose(weight[1], 0.25)
    assert weight[2][index[2] == 2].sum() == pytest.approx(1.0)  # clamped to the nearest node
    np.testing.assert_allclose(weight.sum(axis=1), 1.0)


def test_fast_engine_and_photutils_gridded_model_agree_on_a_varying_psf():
    nodes = np.array([_moffat(2.6), _moffat(3.0), _moffat(3.0), _moffat(3.6)])
    grid = VaryingPSFModel(nodes, NODES, 2)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(15, 185, 60), rng.uniform(15, 185, 60)
    flux = rng.uniform(2e3, 2e4, 60)
    image = grid.image((200, 200), x, y, flux) + rng.normal(0.0, 1.0, (200, 200))
    noise = np.ones_like(image)
    fast = fit_with_engine("fast", image, noise, grid, x + 0.2, y - 0.2, flux * 0.9, fit_radius=3.0)
    peer = fit_with_engine("photutils", image, noise, grid, x + 0.2, y - 0.2, flux * 0.9, fit_radius=3.0)
    both = fast[5] & peer[5]
    assert both.sum() >= 55
    # the same PSF in both (photutils fits groups of neighbours, we fit all at once: blends differ by ~1 %)
    ratio = fast[2][both] / peer[2][both]
    assert np.median(ratio) == pytest.approx(1.0, abs=2e-3)
    assert np.mean(np.abs(ratio - 1) < 0.02) >= 0.9
    for engine in (fast, peer):
        assert np.median(engine[2][both] / flux[both]) == pytest.approx(1.0, abs=3e-3)


def test_psf_file_keeps_a_varying_psf_with_its_nodes(tmp_path):
    grid = VaryingPSFModel(np.array([_moffat(2.6), _moffat(3.0), _moffat(3.0), _moffat(3.6)]), NODES, 2)
    write_psf_file(tmp_path / "psf.fits", PSFPasses(first=PSFModel(_moffat(3.0), 2), final=grid), 2, 6.0)
    back = read_psf_file(tmp_path / "psf.fits").final
    assert isinstance(back, VaryingPSFModel)
    np.testing.assert_array_equal(back.grid_xypos, grid.grid_xypos)
    np.testing.assert_allclose(back.data, grid.data, rtol=1e-12)
    x, y = np.array([50.3]), np.array([120.8])
    np.testing.assert_allclose(back.stamps(x, y).values, grid.stamps(x, y).values, rtol=1e-6)
