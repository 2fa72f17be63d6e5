"""The ePSF build: a diverged build (a deep negative lobe) is refused, not used."""

import numpy as np
import pytest
from astropy.table import Table

import astropipe.photometry.epsf as epsf_module
from astropipe.photometry.epsf import build_epsf
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
