"""The ePSF build (a diverged build, a deep negative lobe, is refused, not used) and the choice of its stars."""

import numpy as np
import pytest
from astropy.table import Table

import astropipe.photometry.epsf as epsf_module
from astropipe.photometry.epsf import build_epsf, select_psf_stars
from astropipe.simulate.psf import render_stars


class _Diverged:
    """Stands in for photutils' EPSFBuilder and returns an ePSF with a hole of -50 % of its peak."""

    def __init__(self, **_settings):
        pass

    def __call__(self, _cutouts):
        data = np.zeros((23, 23))
        data[11, 11], data[5, 5] = 1.0, -0.5
        return type("EPSF", (), {"data": data})(), None


def _field():
    rng = np.random.default_rng(4)
    x, y = rng.uniform(20, 180, 8), rng.uniform(20, 180, 8)
    image = render_stars((200, 200), x, y, np.full(8, 5000.0), 4.0, 3.0) + rng.normal(0, 1.0, (200, 200))
    return image, Table({"x": x, "y": y, "peak": np.full(8, 100.0)})


def test_a_converged_build_is_accepted():
    image, stars = _field()
    _, data = build_epsf(image, stars, half_size=8, oversampling=2)
    assert data.min() > -0.05 * data.max()


def test_a_diverged_build_is_refused(monkeypatch):
    monkeypatch.setattr(epsf_module, "EPSFBuilder", _Diverged)
    image, stars = _field()
    with pytest.raises(ValueError, match=r"dips to -50.0% of its peak .* the build did not converge"):
        build_epsf(image, stars, half_size=8, oversampling=2)


def _stars(x, y, peak) -> Table:
    return Table({"x": np.asarray(x, float), "y": np.asarray(y, float), "peak": np.asarray(peak, float)})


def _pairs(n_isolated: int) -> Table:
    """``n_isolated`` lone stars of peak 100 in a row, then a star of peak 1000 with a neighbour of peak 50 at
    20 px (faint, beyond 1.5 FWHM), one with a neighbour of peak 200 at 20 px (too bright) and one with a
    neighbour of peak 50 at 5 px (too close); FWHM 10 px, so the isolation radius is 30 px."""
    x = list(50.0 + 40.0 * np.arange(n_isolated))
    y = [50.0] * n_isolated
    peak = [100.0] * n_isolated
    for row, (separation, neighbour) in enumerate([(20.0, 50.0), (20.0, 200.0), (5.0, 50.0)]):
        x += [100.0, 100.0 + separation]
        y += [200.0 + 60.0 * row] * 2
        peak += [1000.0, neighbour]
    return _stars(x, y, peak)


def test_with_enough_isolated_stars_a_star_with_any_neighbour_is_left_out():
    stars = _pairs(epsf_module.MIN_ISOLATED_STARS)
    chosen = select_psf_stars(stars, np.zeros((400, 2100)), fwhm=10.0, saturation=1e6, half_size=10)
    assert len(chosen) == epsf_module.MIN_ISOLATED_STARS and np.all(chosen["peak"] == 100.0)


def test_with_too_few_isolated_stars_those_with_only_faint_neighbours_are_added_brightest_first():
    """DAOPHOT's rule in a crowded field: the star whose neighbour is 3.2 mag fainter comes first; the ones with
    a neighbour 1.7 mag fainter or half a FWHM away stay out (and so do the faint neighbours themselves)."""
    stars = _pairs(3)
    chosen = select_psf_stars(stars, np.zeros((400, 300)), fwhm=10.0, saturation=1e6, half_size=10)
    assert list(chosen["peak"]) == [1000.0, 100.0, 100.0, 100.0]
    assert (chosen["x"][0], chosen["y"][0]) == (100.0, 200.0)


def test_psf_stars_are_unsaturated_and_their_stamps_covered():
    stars = _stars([50.0, 150.0, 250.0, 5.0], [50.0] * 4, [100.0, 800.0, 100.0, 100.0])
    signal = np.zeros((100, 300))
    signal[45, 250] = np.nan
    chosen = select_psf_stars(stars, signal, fwhm=5.0, saturation=1000.0, half_size=10)
    assert list(chosen["x"]) == [50.0]
