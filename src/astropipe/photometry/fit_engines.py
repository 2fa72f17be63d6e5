"""The fitting engines behind one interface: this package's vectorised fitter or photutils' ``PSFPhotometry``.

Both fit the same stars with the same ePSF (constant or tabulated on a grid), so that photutils serves as the
reference the ``fast`` engine is checked and benchmarked against.
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.photometry.fitting import fit_stars, merge_unresolved
from astropipe.photometry.psf_grid import photutils_psf
from astropipe.photometry.psf_model import StampModel

__all__ = ["fit_with_engine"]


def fit_with_engine(
    engine: str,
    signal: NDArray[np.float64],
    noise: NDArray[np.float64],
    psf: StampModel,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    *,
    fit_radius: float,
    bad: NDArray[np.bool_] | None = None,
    merge_separation: float = 0.0,
):
    """Fit with the ``fast`` engine or photutils' ``PSFPhotometry``; return (x, y, flux, flux_err, chi, kept).

    ``psf`` is the tabulated ePSF (constant or on a grid) the ``fast`` engine uses and photutils
    gets as ``ImagePSF`` or ``GriddedPSFModel``; ``fit_radius`` in pixels, ``bad`` marks
    pixels to ignore. Stars that converge closer than ``merge_separation`` (pixels) are merged:
    during the iterations by the ``fast`` engine, after the fit (without a
    refit; fluxes summed, errors in quadrature) for photutils, which has no
    such step.
    """
    if engine == "fast":
        fit = fit_stars(signal, noise, psf, x, y, flux, fit_radius, bad=bad, merge_separation=merge_separation)
        return fit.x, fit.y, fit.flux, fit.flux_err, fit.chi, fit.kept
    if engine == "photutils":
        from photutils.psf import PSFPhotometry, SourceGrouper

        model = photutils_psf(psf)
        size = 2 * int(np.ceil(fit_radius)) + 1
        phot = PSFPhotometry(
            model, (size, size), grouper=SourceGrouper(min_separation=2.0 * fit_radius), aperture_radius=fit_radius
        )
        init = Table({"x": x, "y": y, "flux": flux})
        mask = ~np.isfinite(signal) | (bad if bad is not None else False)
        out = phot(np.nan_to_num(signal), mask=mask, error=np.nan_to_num(noise, nan=1e30), init_params=init)
        fx, fy, ff = (np.asarray(out[c], float) for c in ("x_fit", "y_fit", "flux_fit"))
        fe = np.asarray(out["flux_err"], float) if "flux_err" in out.colnames else np.full(fx.size, np.nan)
        chi = (
            np.asarray(out["reduced_chi2"], float) ** 0.5
            if "reduced_chi2" in out.colnames
            else np.full(fx.size, np.nan)
        )
        kept = np.flatnonzero(np.isfinite(ff) & (ff > 0))
        xs, ys, fs, variance = fx[kept], fy[kept], ff[kept], fe[kept] ** 2
        survivors = merge_unresolved(xs, ys, fs, merge_separation, variance)
        fx[kept], fy[kept], ff[kept], fe[kept] = xs, ys, fs, np.sqrt(variance)
        return fx, fy, ff, fe, chi, np.isin(np.arange(fx.size), kept[survivors])
    raise ValueError(f"photometry engine must be 'fast' or 'photutils'; got {engine!r}")
