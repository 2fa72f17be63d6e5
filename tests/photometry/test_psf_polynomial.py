"""The ePSF varying quadratically with position (astropipe.photometry.psf_polynomial)."""

import numpy as np
from astropy.table import Table

from astropipe.photometry.epsf import build_epsf
from astropipe.photometry.psf_polynomial import fit_quadratic_epsf
from astropipe.simulate.psf import FramePSF, render_field

SIZE, FWHM = 512, 4.0


def _psf(edge: float) -> FramePSF:
    return FramePSF(fwhm=FWHM, core_beta=4.765, halo_fraction=0.1, edge_ellipticity=edge, edge_broadening=edge)


def _size_along_y(psf) -> float:
    """Second moment along y (pixels^2) of a PSF within 8 px of its centre."""
    g = np.arange(-10, 11.0)
    gx, gy = np.meshgrid(g, g)
    values = psf(gx, gy) * (np.hypot(gx, gy) < 8)
    return float((values * gy**2).sum() / values.sum())


def test_quadratic_epsf_follows_the_broadening_towards_the_edges():
    rng = np.random.default_rng(2)
    grid = np.linspace(30, SIZE - 30, 12)
    x, y = (g.ravel() + rng.uniform(-1, 1, 144) for g in np.meshgrid(grid, grid))
    flux = np.full(x.size, 1e5)
    for edge, change in ((0.0, (0.995, 1.005)), (0.3, (1.25, 2.0))):
        image = render_field((SIZE, SIZE), x, y, flux, _psf(edge)) + rng.normal(0, 1.0, (SIZE, SIZE))
        constant = build_epsf(image, Table({"x": x, "y": y, "peak": flux}), 14, 2)[0]
        varying = fit_quadratic_epsf(image, x, y, flux, constant, FWHM, 5)
        sizes = [_size_along_y(node) for node in varying.nodes]
        centre, edges = sizes[12], (sizes[2], sizes[22])  # nodes (256, 0), (256, 511) and the centre
        for edge_size in edges:
            assert change[0] < edge_size / centre < change[1]
