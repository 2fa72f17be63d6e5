"""Tabulated ePSF stamps (astropipe.photometry.psf_model) against the spline they tabulate."""

import numpy as np

from astropipe.photometry.psf_grid import VaryingPSFModel, bilinear_weights
from astropipe.photometry.psf_model import PSFModel

NODES = np.array([(x, y) for y in (0.0, 300.0) for x in (0.0, 300.0)])


def _moffat(fwhm: float, ellipticity: float = 0.0, size: int = 41, oversampling: int = 2) -> np.ndarray:
    offsets = (np.arange(size) - (size - 1) / 2) / oversampling
    r2 = (offsets[None, :] * (1 + ellipticity)) ** 2 + (offsets[:, None] / (1 + ellipticity)) ** 2
    return (1 + r2 / (fwhm / 1.0197) ** 2) ** -3.0


def _offsets(stamps, x, y):
    return stamps.px[:, None, :] - x[:, None, None], stamps.py[:, :, None] - y[:, None, None]


def test_stamps_and_gradients_follow_the_spline_at_any_phase():
    psf = PSFModel(_moffat(4.0), 2)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(20, 80, 200), rng.uniform(20, 80, 200)
    stamps = psf.stamps(x, y, gradients=True)
    dx, dy = _offsets(stamps, x, y)
    peak = float(psf(np.zeros(1), np.zeros(1))[0])
    gx, gy = psf.gradient(dx, dy)
    # within the footprint (at its edge the tables step to zero between two phases): bilinear between
    # 16 phases per pixel, 4e-4 of the peak for this sharp PSF (FWHM 4 px; the error falls as FWHM^-2)
    inner = (np.abs(dx) < psf.radius - 1) & (np.abs(dy) < psf.radius - 1)
    assert np.abs(stamps.values - psf(dx, dy))[inner].max() < 5e-4 * peak
    assert np.abs(stamps.grad_x - gx)[inner].max() < 3e-3 * np.abs(gx).max()
    assert np.abs(stamps.grad_y - gy)[inner].max() < 3e-3 * np.abs(gy).max()


def test_smaller_boxes_are_the_centres_of_the_whole_stamps_whatever_the_order_asked():
    psf = VaryingPSFModel(np.array([_moffat(3.0 + 0.3 * k, 0.05 * k) for k in range(4)]), NODES, 2)
    rng = np.random.default_rng(4)
    x, y = rng.uniform(0, 300, 50), rng.uniform(0, 300, 50)
    whole = psf.stamps(x, y, gradients=True)
    # more box sizes than are kept as copies, and the first again after it was dropped
    for half in (3, 7, 5, 9, 3):
        box = psf.stamps(x, y, half=half, gradients=True)
        cut = slice(psf.half - half, psf.half + half + 2)
        for name in ("values", "grad_x", "grad_y"):
            np.testing.assert_array_equal(getattr(box, name), getattr(whole, name)[:, cut, cut])


def test_a_varying_psf_is_the_bilinear_mean_of_its_nodes():
    data = np.array([_moffat(3.0 + 0.3 * k, 0.05 * k) for k in range(4)])
    psf = VaryingPSFModel(data, NODES, 2)
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 300, 100), rng.uniform(0, 300, 100)
    stamps = psf.stamps(x, y)
    index, weight = bilinear_weights(x, y, psf.xgrid, psf.ygrid)
    expected = sum(
        weight[:, k, None, None]
        * np.array([psf.nodes[i].stamps(x, y).values for i in range(4)])[index[:, k], np.arange(x.size)]
        for k in range(4)
    )
    np.testing.assert_allclose(stamps.values, expected, atol=1e-6 * float(expected.max()))
