"""validation/photometry_maps.py: a position-dependent error, the scatter and the spurious detections of a
synthetic catalogue with known answers."""

import importlib.util

import numpy as np
import pytest
from astropy.table import Table
from astropy.wcs import WCS
from conftest import REPO

spec = importlib.util.spec_from_file_location("photometry_maps", REPO / "validation" / "photometry_maps.py")
maps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(maps)

NOISE = 0.02  # mag


@pytest.fixture(scope="module")
def stars():
    """4000 injected stars over 1000 x 1000 px (0.288"/px), measured with 0.02 mag of noise, those below row 150
    0.1 mag faint, one in ten flagged, and 40 detections 3" or more from any injected star."""
    rng = np.random.default_rng(4)
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [267.6, -28.9]
    wcs.wcs.crpix = [500.0, 500.0]
    wcs.wcs.cdelt = [-0.288 / 3600, 0.288 / 3600]
    x, y = rng.uniform(0, 1000, 4000), rng.uniform(0, 1000, 4000)
    k = rng.uniform(9.0, 17.0, 4000)
    ra, dec = wcs.all_pix2world(x, y, 0)
    truth = Table({"ra": ra, "dec": dec, "K": k, "H": k + 0.5})
    spurious_x, spurious_y = rng.uniform(0, 1000, 400), rng.uniform(0, 1000, 400)
    clear = np.array([np.hypot(x - a, y - b).min() > 3.0 / 0.288 for a, b in zip(spurious_x, spurious_y, strict=True)])
    spurious_x, spurious_y = spurious_x[clear][:40], spurious_y[clear][:40]
    cx, cy = np.concatenate([x, spurious_x]), np.concatenate([y, spurious_y])
    cra, cdec = wcs.all_pix2world(cx, cy, 0)
    # instrumental magnitudes: zero point 22.3
    measured = np.concatenate([k - 22.3 + rng.normal(0.0, NOISE, k.size) + 0.1 * (y < 150), np.full(40, -5.0)])
    flags = np.where(rng.random(cx.size) < 0.1, 2, 0)
    flags[-40:] = 0
    catalog = Table({"x": cx, "y": cy, "ra": cra, "dec": cdec, "mag_inst": measured, "flags": flags})
    return maps.matched_offsets(catalog, truth, "Ks"), int((flags[:-40] == 0).sum())


def test_every_unflagged_injected_star_is_matched_and_the_spurious_ones_are_counted(stars):
    offsets, unflagged_injected = stars
    assert offsets["offset"].size == unflagged_injected
    assert offsets["unmatched"] == 40


def test_the_error_map_finds_the_faint_bottom_rows(stars):
    offsets, _ = stars
    grid = maps.error_map(offsets["x"], offsets["y"], offsets["offset"], offsets["true_mag"])
    # the bottom points (y = 100) see the 0.1 mag step: most of their stars within 200 px lie below row 150;
    # the points from y = 500 up see none (the median of 90 stars with 0.02 mag of noise errs by 0.003, and the
    # affected stars move the map's zero by about 0.006)
    assert np.all((grid[0] > 0.05) & (grid[0] < 0.11))
    assert np.all(np.abs(grid[2:]) < 0.02)


def test_the_scatter_is_the_noise(stars):
    offsets, _ = stars
    unaffected = offsets["y"] >= 150
    scatter = maps.robust_scatter(offsets["offset"][unaffected], offsets["true_mag"][unaffected])
    assert scatter == pytest.approx(NOISE, rel=0.1)


def test_one_more_bright_star_does_not_move_the_maps_range(stars):
    """A star 3 mag brighter than all others (a saturated one a photometry change unflags) shifts the range's start
    by one rank: the map barely moves (with the brightest star as the start it would hold that star alone)."""
    offsets, _ = stars
    grid = maps.error_map(offsets["x"], offsets["y"], offsets["offset"], offsets["true_mag"])
    brightest = offsets["true_mag"].min() - 3.0
    with_star = maps.error_map(
        *(np.append(offsets["x"], 500.0), np.append(offsets["y"], 500.0)),
        *(np.append(offsets["offset"], offsets["offset"][0] + 0.5), np.append(offsets["true_mag"], brightest)),
    )
    np.testing.assert_allclose(with_star, grid, atol=0.01)
