"""The light a saturated star's ePSF fit leaves around it (astropipe.photometry.saturated_wings), and its
neighbours' photometry with and without it. On simulated SOFI nights: docs/object11_validation.md."""

import functools

import numpy as np
import pytest
from scipy.spatial import cKDTree

import astropipe.photometry.star_list as star_list
from astropipe.photometry.pipeline import PSFPasses, psf_photometry
from astropipe.photometry.psf_model import PSFModel
from astropipe.photometry.saturated_wings import MIN_WING_STARS, SaturatedWings

SATURATION = 2.0e4
RING = 2.0e-5  # per pixel per unit flux, 8-20 px from a saturated star: light its ePSF does not have
SIGMA = 2.0  # pixels, of the Gaussian ePSF


def _gaussian_epsf(half: int = 22) -> PSFModel:
    v = (np.arange(2 * (2 * half + 1) + 1) - (2 * half + 1)) / 2.0  # oversampled by 2
    g = np.exp(-(v[:, None] ** 2 + v[None, :] ** 2) / (2 * SIGMA**2))
    return PSFModel(g / g.sum() * 4, oversampling=2)


def _field_with_ringed_saturated_stars(psf: PSFModel):
    """16 saturated stars whose light has, beyond the ePSF, a ring of RING of their flux per pixel at 8-20 px
    (within the ePSF's 22-px half size);
    four neighbours of 3,000-10,000 counts 10-18 px from each, 200 stars of the same fluxes more than 45 px
    from any. Returns the image, positions, fluxes, and which stars are the neighbours and the far ones."""
    rng = np.random.default_rng(5)
    shape = (520, 520)
    grid_x, grid_y = np.meshgrid(np.arange(4) * 120.0 + 80.0, np.arange(4) * 120.0 + 80.0)
    bright_x, bright_y = grid_x.ravel() + rng.uniform(-2, 2, 16), grid_y.ravel() + rng.uniform(-2, 2, 16)
    bright_flux = 10 ** rng.uniform(5.6, 6.0, 16)
    angle, radius = rng.uniform(0, 2 * np.pi, (16, 4)), rng.uniform(10, 18, (16, 4))
    near_x = (bright_x[:, None] + radius * np.cos(angle)).ravel()
    near_y = (bright_y[:, None] + radius * np.sin(angle)).ravel()
    far_x, far_y = rng.uniform(10, 510, 2000), rng.uniform(10, 510, 2000)
    clear = cKDTree(np.column_stack([bright_x, bright_y])).query(np.column_stack([far_x, far_y]))[0] > 45
    far_x, far_y = far_x[clear][:200], far_y[clear][:200]
    x, y = np.r_[bright_x, near_x, far_x], np.r_[bright_y, near_y, far_y]
    flux = np.r_[bright_flux, 10 ** rng.uniform(3.5, 4.0, near_x.size + far_x.size)]
    image = psf.image(shape, x, y, flux)
    rows, columns = np.indices(shape)
    for xi, yi, fi in zip(bright_x, bright_y, bright_flux, strict=True):
        r = np.hypot(columns - xi, rows - yi)
        image[(r >= 8) & (r < 20)] += RING * fi
    image = np.minimum(image + rng.normal(0.0, 3.0, shape), SATURATION)
    index = np.arange(x.size)
    return image, x, y, flux, (index >= 16) & (index < 16 + near_x.size), index >= 16 + near_x.size


@functools.cache
def _neighbour_and_far_flux_ratios(with_wings: bool) -> tuple[float, float]:
    """Median measured / true flux of the saturated stars' neighbours and of the far stars."""
    psf = _gaussian_epsf()
    image, x, y, flux, near, far = _field_with_ringed_saturated_stars(psf)
    with pytest.MonkeyPatch.context() as patch:
        if not with_wings:
            patch.setattr(star_list.SaturatedWings, "measure", classmethod(lambda cls, *a, **k: cls.none()))
        catalog = psf_photometry(
            image, fwhm_guess=2.355 * SIGMA, pixel_scale=0.145, saturation=SATURATION - 1, psfs=PSFPasses(psf, psf)
        ).catalog
    distance, index = cKDTree(np.column_stack([catalog["x"], catalog["y"]])).query(np.column_stack([x, y]))
    ratio = np.asarray(catalog["flux"], float)[index] / flux
    found = distance < 0.5
    assert found[near].sum() >= 50 and found[far].sum() >= 180
    return float(np.median(ratio[found & near])), float(np.median(ratio[found & far]))


def test_the_neighbours_of_saturated_stars_are_measured_as_far_stars_are():
    """The ring adds RING x 4e5-1e6 = 8-20 counts per pixel under the neighbours: left in, they come out
    7-8 % too bright; with the measured wings subtracted, within 1 % of the far stars (which the ring does
    not reach)."""
    near, far = _neighbour_and_far_flux_ratios(with_wings=True)
    assert far == pytest.approx(1.0, abs=0.005)
    assert near == pytest.approx(far, abs=0.01)
    near_without, far_without = _neighbour_and_far_flux_ratios(with_wings=False)
    assert far_without == pytest.approx(far, abs=0.002)
    assert near_without / far_without > 1.05


def test_the_profile_is_the_median_over_stars_and_ignores_bad_pixels():
    """One star of seven carries a bright neighbour in its annuli; the median ignores it. Pixels marked bad
    (a saturated core) leave their annuli without a value."""
    x, y, flux = np.arange(7) * 40.0 + 20.0, np.full(7, 30.0), np.full(7, 1000.0)
    rows, columns = np.indices((60, 300))
    residual = np.zeros((60, 300))
    for xi in x:
        r = np.hypot(columns - xi, rows - 30.0)
        residual[(r >= 4) & (r < 8)] += 0.05
    residual[25:35, 22:32] += 40.0  # a neighbour of the first star
    bad = np.hypot(columns[None] - x[:, None, None], rows[None] - 30.0).min(axis=0) < 2.0
    wings = SaturatedWings.measure(residual, x, y, flux, outer=12, bad=bad)
    assert wings.n_stars == 7
    np.testing.assert_allclose(wings.profile[4:8], 5e-5)
    np.testing.assert_allclose(wings.profile[8:], 0.0)
    assert np.all(wings.profile[:2] == 0.0)  # every pixel within 2 px is bad: no value, no wing


def test_too_few_saturated_stars_give_no_wings():
    residual = np.ones((50, 50))
    x = np.arange(MIN_WING_STARS - 1) * 10.0 + 5.0
    wings = SaturatedWings.measure(residual, x, np.full(x.size, 25.0), np.full(x.size, 100.0), outer=5)
    assert wings.n_stars == 0 and np.all(wings.image((50, 50), x, np.full(x.size, 25.0), np.ones(x.size)) == 0.0)
