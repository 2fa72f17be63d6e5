"""Artificial-star tests measure what the catalogue run measures (astropipe.photometry.artificial_stars).

A crowded synthetic image of Moffat stars with a known truth: the catalogue
run's ePSFs, handed back through ``psf.fits``, replay that run exactly, and
the injected stars then show the completeness and faint-end bias that the
real stars, matched to the truth, show.
"""

import numpy as np
import pytest
from astropy.io import fits
from astropy.stats import mad_std
from astropy.table import Table
from scipy.spatial import cKDTree

from astropipe.photometry.artificial_stars import (
    completeness_limit,
    completeness_limit_with_error,
    completeness_table,
    inject_and_recover,
)
from astropipe.photometry.completeness_curve import fleming_completeness
from astropipe.photometry.pipeline import PSFPasses, psf_photometry
from astropipe.photometry.psf_file import read_psf_file, write_psf_file
from astropipe.simulate.psf import render_stars

FWHM, BETA, GAIN, SKY = 5.0, 3.0, 5.0, 20.0
SHAPE = (420, 420)


@pytest.fixture(scope="module")
def crowded_field():
    """700 stars, 2.3 dex in flux, on a flat sky with read and Poisson noise; the catalogue run on it."""
    rng = np.random.default_rng(8)
    x, y = rng.uniform(5, SHAPE[1] - 5, 700), rng.uniform(5, SHAPE[0] - 5, 700)
    flux = 10 ** rng.uniform(2.0, 4.3, x.size)
    stars = render_stars(SHAPE, x, y, flux, FWHM, BETA)
    image = stars + SKY + rng.normal(0.0, 1.0, SHAPE) + rng.normal(0.0, 1.0, SHAPE) * np.sqrt(stars / GAIN)
    result = psf_photometry(image, fwhm_guess=FWHM, pixel_scale=0.145, gain=GAIN)
    return image, Table({"x": x, "y": y, "mag": -2.5 * np.log10(flux)}), result


def _measure(image, psfs):
    return psf_photometry(
        image, fwhm_guess=FWHM, pixel_scale=0.145, gain=GAIN, psfs=psfs, aperture_correction=False
    ).catalog


def test_the_psf_file_replays_the_catalogue_run_exactly(crowded_field, tmp_path):
    """Both ePSFs through psf.fits -> the same stars and magnitudes to the last bit; the final ePSF alone
    (pass 1 included) subtracts other wing light before the background is re-estimated, and the faint
    stars come out differently."""
    image, _, result = crowded_field
    write_psf_file(tmp_path / "psf.fits", result.psfs, 2, result.meta["fwhm_px"])
    replayed = _measure(image, read_psf_file(tmp_path / "psf.fits"))
    assert len(replayed) == len(result.catalog)
    np.testing.assert_array_equal(replayed["mag_inst"], result.catalog["mag_inst"])
    np.testing.assert_array_equal(replayed["x"], result.catalog["x"])

    final_only = _measure(image, PSFPasses(result.psfs.final, result.psfs.final))
    distance, index = cKDTree(np.column_stack([result.catalog["x"], result.catalog["y"]])).query(
        np.column_stack([final_only["x"], final_only["y"]])
    )
    same = distance < 0.3
    magnitude = np.asarray(result.catalog["mag_inst"])[index[same]]
    difference = np.asarray(final_only["mag_inst"])[same] - magnitude
    faint = magnitude > np.percentile(magnitude, 75)
    assert abs(np.median(difference[faint])) > 0.02  # measured 0.030


def test_psf_file_without_the_first_pass_is_refused(crowded_field, tmp_path):
    _, _, result = crowded_field
    path = tmp_path / "old_psf.fits"
    fits.PrimaryHDU(result.psfs.final.data, header=fits.Header({"OVERSAMP": 2})).writeto(path)
    with pytest.raises(ValueError, match=r"FIRSTPASS.*re-run imaging_photometry"):
        read_psf_file(path)


def test_artificial_stars_show_the_completeness_and_bias_of_the_real_stars(crowded_field):
    """Real stars matched to the truth (1 px, 1 mag, as the artificial stars) against 280 injected stars
    in 8 rounds: the faint-end bias (completeness 95 -> 50 %; real stars -0.021 +- 0.007 mag) agrees within
    0.035 mag (measured 0.001) and the completeness in that range within 3 binomial sigma."""
    image, truth, result = crowded_field
    catalog = result.catalog
    distance, index = cKDTree(np.column_stack([catalog["x"], catalog["y"]])).query(
        np.column_stack([truth["x"], truth["y"]])
    )
    measured = np.asarray(catalog["mag_inst"])[index]
    # instrumental = true + the ePSF footprint's offset, set by the bright stars
    offset = np.median((measured - truth["mag"])[(distance < 1) & (truth["mag"] < -8.5)])
    true_inst = np.asarray(truth["mag"]) + offset
    recovered = (distance < 1) & (np.abs(measured - true_inst) < 1)
    real = Table({"mag_in": true_inst, "recovered": recovered, "mag_out": np.where(recovered, measured, np.nan)})

    injected = inject_and_recover(
        image,
        result.psfs.final,
        lambda data: _measure(data, result.psfs),
        35,
        (-10.5 + offset, -5.5 + offset),
        8,
        np.random.default_rng(1),
        gain=GAIN,
    )
    assert len(injected) == 280

    def faint(table):
        return (table["mag_in"] > -8.0 + offset) & (table["mag_in"] < -6.5 + offset)

    bias, error = {}, {}
    for name, table in (("real", real), ("artificial", injected)):
        kept = faint(table) & table["recovered"]
        residual = np.asarray(table["mag_out"][kept] - table["mag_in"][kept], float)
        bias[name] = float(np.median(residual))
        error[name] = 1.2533 * mad_std(residual) / np.sqrt(residual.size)  # a median's standard error
    print(f"faint-end bias: real {bias['real']:+.3f} +- {error['real']:.3f}, artificial {bias['artificial']:+.3f}")
    assert bias["artificial"] == pytest.approx(bias["real"], abs=0.035)
    assert bias["real"] < -2 * error["real"]  # the faint stars detected are the ones noise made brighter

    n_real, n_art = int(faint(real).sum()), int(faint(injected).sum())
    c_real = real["recovered"][faint(real)].mean()
    c_art = injected["recovered"][faint(injected)].mean()
    sigma = np.sqrt(c_real * (1 - c_real) * (1 / n_real + 1 / n_art))
    assert abs(c_art - c_real) < 3 * sigma
    assert 0.5 < c_real < 0.95
    table = completeness_table(injected)
    assert table["completeness"][0] > 0.9 and table["completeness"][-1] < 0.3


class _BlankPSF:
    """A PSF that adds nothing: the draws alone are under test."""

    def image(self, shape, x, y, flux):
        return np.zeros(shape)


def _nothing_found(image):
    return Table({"x": [-1e4], "y": [-1e4], "mag_inst": [0.0]})


def _draw(image, n_stars, magnitude_range, seed=5):
    return inject_and_recover(
        image, _BlankPSF(), _nothing_found, n_stars, magnitude_range, 3, np.random.default_rng(seed), gain=GAIN
    )


def test_one_star_more_per_round_injects_the_same_stars_plus_one():
    """A catalogue a star longer (which sets the number per round) or a magnitude range a little wider (its
    percentiles) changes the test by the star added and by a little, not by a new draw of every star."""
    image = np.ones((300, 300))
    image[:, 200:] = np.nan  # an uncovered strip
    shorter, longer = _draw(image, 40, (-10.0, -5.0)), _draw(image, 41, (-10.0, -5.0))
    wider = _draw(image, 40, (-10.0, -4.99))
    for r in range(3):
        a, b, c = (t[t["round"] == r] for t in (shorter, longer, wider))
        assert len(a) == 40 and len(b) == 41
        for column in ("x", "y", "mag_in"):
            np.testing.assert_array_equal(a[column], b[column][:40])
        np.testing.assert_array_equal(a["x"], c["x"])
        assert np.max(np.abs(c["mag_in"] - a["mag_in"])) <= 0.01
    assert not np.array_equal(shorter["x"][:40], shorter["x"][40:80])  # each round draws its own stars


def test_artificial_stars_fall_uniformly_on_covered_pixels_only():
    image = np.ones((300, 300))
    image[:, 200:] = np.nan
    stars = _draw(image, 1000, (-10.0, -5.0))
    x, y = np.asarray(stars["x"]), np.asarray(stars["y"])
    assert np.all(np.round(x) < 200) and np.all((x >= 10) & (y >= 10) & (y <= 289))
    # uniform: a quarter of the covered area holds a quarter of the stars (binomial, 3000 draws)
    share = np.mean((x < 105) & (y < 150))
    assert share == pytest.approx(0.25, abs=4 * np.sqrt(0.25 * 0.75 / x.size))
    with pytest.raises(ValueError, match=r"no covered pixel lies 10\.0 px inside"):
        _draw(np.full((300, 300), np.nan), 10, (-10.0, -5.0))


# the completeness limit read from an artificial-star table
def _counts(m50: float, alpha: float, plateau: float, n: int, rng) -> Table:
    """Bins of 0.5 mag from 12 to 20 with ``n`` stars each, recovered as a binomial draw of Fleming et al.'s curve."""
    lo = 12.0 + 0.5 * np.arange(16)
    injected = np.full(lo.size, n)
    recovered = rng.binomial(injected, fleming_completeness(lo + 0.25, m50, alpha, plateau))
    return Table(
        {
            "mag_lo": lo,
            "mag_hi": lo + 0.5,
            "n_injected": injected,
            "n_recovered": recovered,
            "completeness": recovered / injected,
        }
    )


def test_the_fitted_limit_and_its_error_hold_over_repeated_tests():
    """200 tests of 50 stars per bin around a curve with its 50 % point at 16.92 mag (m50 16.8, plateau 0.95):
    the limits scatter about the truth as their quoted errors say."""
    rng = np.random.default_rng(5)
    truth = 16.8 + (1 - 2 * 0.5 / 0.95) / np.sqrt(1 - (1 - 2 * 0.5 / 0.95) ** 2) / 1.5
    assert fleming_completeness(np.array([truth]), 16.8, 1.5, 0.95)[0] == pytest.approx(0.5)
    limits, errors = np.array([completeness_limit_with_error(_counts(16.8, 1.5, 0.95, 50, rng)) for _ in range(200)]).T
    pulls = (limits - truth) / errors
    assert abs(np.mean(limits) - truth) < 3 * np.std(limits) / np.sqrt(limits.size)
    assert np.sqrt(np.mean(pulls**2)) == pytest.approx(1.0, abs=0.2)


def test_a_bright_bin_of_a_few_stars_below_the_level_does_not_set_the_limit():
    """Interpolating at the first bin below 50 % took such a dip for the limit, 3.8 mag too bright."""
    table = _counts(16.8, 1.5, 0.95, 50, np.random.default_rng(6))
    table["n_injected"][2], table["n_recovered"][2] = 3, 1
    table["completeness"][2] = 1 / 3
    limit, error = completeness_limit_with_error(table, 0.5)
    assert abs(limit - 16.9) < 3 * error < 0.5


def test_limit_is_nan_when_the_tests_never_reach_the_level():
    table = _counts(22.0, 1.5, 0.95, 50, np.random.default_rng(7))
    assert not np.any(table["completeness"] < 0.5)
    assert np.isnan(completeness_limit(table, 0.5))
