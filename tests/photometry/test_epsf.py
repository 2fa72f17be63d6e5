"""The ePSF build (a diverged build, a deep negative lobe, is refused, not used, and the catalogue says so),
its saturated pixels, and the choice of its stars."""

import numpy as np
import pytest
from astropy.table import Table
from scipy.ndimage import binary_dilation

import astropipe.photometry.epsf as epsf_module
import astropipe.photometry.pipeline as pipeline
import astropipe.photometry.second_psf_pass as second_psf_pass
from astropipe.photometry.epsf import bright_psf_stars, build_epsf, select_psf_stars
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


def test_psf_stars_may_have_faint_neighbours_but_no_bright_or_close_ones():
    """DAOPHOT's rule, however many lone stars there are: the star whose neighbour is 3.2 mag fainter comes
    first; the ones with a neighbour 1.7 mag fainter or half a FWHM away stay out (and so do the faint
    neighbours themselves, which have a brighter one)."""
    for n_isolated in (3, 40):
        stars = _pairs(n_isolated)
        chosen = select_psf_stars(stars, np.zeros((400, 2100)), fwhm=10.0, saturation=1e6, half_size=10)
        assert list(chosen["peak"]) == [1000.0] + [100.0] * n_isolated
        assert (chosen["x"][0], chosen["y"][0]) == (100.0, 200.0)


def test_psf_stars_are_unsaturated_and_their_stamps_covered():
    stars = _stars([50.0, 150.0, 250.0, 5.0], [50.0] * 4, [100.0, 800.0, 100.0, 100.0])
    signal = np.zeros((100, 300))
    signal[45, 250] = np.nan
    chosen = select_psf_stars(stars, signal, fwhm=5.0, saturation=1000.0, half_size=10)
    assert list(chosen["x"]) == [50.0]


def test_psf_stars_fainter_than_a_tenth_of_the_brightest_are_left_out_of_the_build():
    """A stamp normalised to unit flux carries noise and neighbours' light as 1 / peak; but the build keeps
    three stars per sub-pixel phase (12 at oversampling 2) when only a few stars are bright."""
    peaks = [1000.0, 500.0, 100.0] + [99.0 - k for k in range(20)]
    stars = _stars(np.arange(23) * 40.0, [50.0] * 23, peaks)
    assert list(bright_psf_stars(stars, oversampling=1)["peak"]) == [1000.0, 500.0, 100.0]
    assert list(bright_psf_stars(stars, oversampling=2)["peak"]) == peaks[:12]
    assert len(bright_psf_stars(stars[:0])) == 0


def _stars_beside_subtracted_saturated_neighbours():
    """Eight PSF stars, each with a neighbour 7 px away (in a different direction) whose core is saturated
    (clipped at 2,000),
    after the neighbours' models are subtracted: a deep hole where the image was clipped, empty elsewhere.
    Returns that image, the same stars without neighbours, the stars' table and the saturated pixels."""
    rng = np.random.default_rng(7)
    x, y = 30.0 + 40.0 * np.arange(8) + rng.uniform(-0.5, 0.5, 8), np.full(8, 40.0) + rng.uniform(-0.5, 0.5, 8)
    noise = rng.normal(0.0, 1.0, (80, 360))
    stars = render_stars(noise.shape, x, y, np.full(8, 5000.0), 4.0, 3.0)
    angle = np.arange(8) * np.pi / 4.0
    neighbours = render_stars(
        noise.shape, x + 7.0 * np.cos(angle), y + 7.0 * np.sin(angle), np.full(8, 200000.0), 4.0, 3.0
    )
    saturation = 2000.0
    clipped = np.minimum(stars + neighbours, saturation)
    saturated = binary_dilation(clipped >= saturation, iterations=1)
    table = Table({"x": x, "y": y, "peak": np.full(8, 100.0)})
    return clipped - neighbours + noise, stars + noise, table, saturated


def test_saturated_pixels_get_no_weight_in_the_build():
    """The holes subtracted saturated neighbours leave (-6,000 counts beside a peak of 400) make the build
    fail; with those pixels left out the ePSF is the one the stars alone give."""
    image, alone, stars, saturated = _stars_beside_subtracted_saturated_neighbours()
    assert saturated.sum() > 8 * 20
    _, clean = build_epsf(alone, stars, half_size=10, oversampling=2)
    _, masked = build_epsf(image, stars, half_size=10, oversampling=2, bad=saturated)
    assert np.abs(masked - clean).max() < 0.02 * clean.max()
    with pytest.raises(ValueError):
        build_epsf(image, stars, half_size=10, oversampling=2)


def test_a_refused_second_build_is_reported_in_the_catalogue(monkeypatch):
    """When the ePSF rebuilt from neighbour-subtracted PSF stars is refused, the run goes on with the first
    one and says so in the catalogue's metadata (not only in the log)."""
    builds = []

    def second_refused(*args, **kwargs):
        builds.append(args[1])
        if len(builds) == 2:
            raise ValueError("the ePSF built from 36 stars dips to -30.0% of its peak")
        return build_epsf(*args, **kwargs)

    monkeypatch.setattr(pipeline, "build_epsf", second_refused)  # the first pass's build
    monkeypatch.setattr(second_psf_pass, "build_epsf", second_refused)  # DAOPHOT's second PSF pass
    x, y = np.meshgrid(np.arange(6) * 30.0 + 25.0, np.arange(6) * 30.0 + 25.0)
    image = render_stars((200, 200), x.ravel(), y.ravel(), np.full(36, 20000.0), 3.0, 3.0)
    image += np.random.default_rng(1).normal(0.0, 1.0, image.shape)
    result = pipeline.psf_photometry(image, fwhm_guess=3.0, pixel_scale=0.145)
    assert len(builds) == 2
    assert result.catalog.meta["psf_model"] == "first pass"
    assert "dips to -30.0%" in result.catalog.meta["psf_rebuild_failure"]
    assert result.psfs.final is result.psfs.first
