"""DAOPHOT's second PSF pass: the ePSF rebuilt from the PSF stars with their neighbours subtracted, constant or
varying across the image."""

from __future__ import annotations

import logging

import numpy as np
from astropy.table import Table
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from astropipe.photometry.epsf import build_epsf
from astropipe.photometry.psf_distortion import PSFMapError, fit_distorted_epsf
from astropipe.photometry.psf_grid import VaryingPSFModel
from astropipe.photometry.psf_model import PSFModel
from astropipe.photometry.psf_polynomial import fit_quadratic_epsf
from astropipe.photometry.psf_variation import residual_structure
from astropipe.photometry.settings import PhotometrySettings
from astropipe.photometry.star_list import StarList

__all__ = ["rebuild_epsf"]


def rebuild_epsf(
    signal: NDArray[np.float64],
    stars_model: NDArray[np.float64],
    psf: PSFModel,
    psf_stars: Table,
    pool: Table,
    stars: StarList,
    *,
    half: int,
    fwhm: float,
    fit_radius: float,
    settings: PhotometrySettings,
    log: logging.Logger,
    saturated: NDArray[np.bool_],
) -> tuple[Table, PSFModel | VaryingPSFModel, dict]:
    """The final ePSF from the PSF stars on the image with every other star subtracted.

    Constant, or varying across the image (``settings.psf_variation``: 'distortion', the constant ePSF under a
    local linear map, or 'quadratic'; 'auto' takes the first when the constant one's residuals vary with
    position). When fewer than five of the PSF stars survived the fit, or the rebuild fails, the first-pass
    ePSF is kept and the returned summary says why.

    Parameters
    ----------
    signal : numpy.ndarray
        The image less its background (image units).
    stars_model : numpy.ndarray
        The pass-1 models of every fitted star, with ``psf``.
    psf : PSFModel
        The first pass's ePSF.
    psf_stars, pool : astropy.table.Table
        The constant ePSF's stars and the larger pool a varying one draws on (columns ``x``, ``y``, ``peak``),
        as detected: matched to the fitted stars within 1 pixel.
    stars : StarList
        The stars after pass 1.
    half : int
        Half size of the ePSF's stamp, pixels.
    fwhm, fit_radius : float
        Pixels.
    settings : PhotometrySettings
    log : logging.Logger
    saturated : numpy.ndarray
        Pixels left out of the build: there the subtracted model of a saturated neighbour leaves a deep hole.

    Returns
    -------
    tuple
        (the PSF stars at their fitted positions, the ePSF, what the variation test and the varying fit found).
    """
    tree = cKDTree(np.column_stack([stars.x, stars.y]))
    distance, index = tree.query(np.column_stack([pool["x"], pool["y"]]))
    found = distance < 1.0
    in_constant = found[: len(psf_stars)]
    if in_constant.sum() < 5:
        problem = f"only {int(in_constant.sum())} PSF stars kept by the fit"
        log.warning("second ePSF pass skipped (%s); keeping the first-pass ePSF", problem)
        return psf_stars, psf, {"psf_model": "first pass", "psf_rebuild_failure": problem}
    chosen = index[found]
    n_constant = int(in_constant.sum())

    def without_neighbours(kept: NDArray[np.int64]) -> NDArray[np.float64]:
        own = psf.image(signal.shape, stars.x[kept], stars.y[kept], stars.flux[kept])
        return signal - (stars_model - own)

    refined_pool = Table({"x": stars.x[chosen], "y": stars.y[chosen], "peak": np.asarray(pool["peak"])[found]})
    refined = refined_pool[:n_constant]
    neighbours_removed = without_neighbours(chosen[:n_constant])
    try:
        new_psf = build_epsf(neighbours_removed, refined, half, settings.psf_oversampling, bad=saturated)[0]
    except ValueError as problem:  # too few or too faint PSF stars after subtraction: keep the first ePSF
        log.warning("second ePSF pass failed (%s); keeping the first-pass ePSF", problem)
        return psf_stars, psf, {"psf_model": "first pass", "psf_rebuild_failure": str(problem)}
    if settings.psf_variation == "constant":
        return refined, new_psf, {"psf_model": "constant"}
    neighbours_removed = without_neighbours(chosen)
    structure = residual_structure(
        neighbours_removed,
        new_psf,
        stars.x[chosen],
        stars.y[chosen],
        stars.flux[chosen],
        fwhm,
        settings.psf_variation_p,
    )
    summary = {"psf_variation_p": structure.p_values, "psf_variation_n_stars": structure.n_stars}
    log.info(
        "constant-ePSF residuals against position (%d stars): p = %s",
        structure.n_stars,
        ", ".join(f"{name} {p:.2g}" for name, p in structure.p_values.items()),
    )
    if settings.psf_variation == "auto" and not structure.varies:
        return refined, new_psf, {"psf_model": "constant", **summary}
    arguments = (neighbours_removed, stars.x[chosen], stars.y[chosen], stars.flux[chosen], new_psf, fit_radius)
    if settings.psf_variation == "quadratic":
        grid, model = fit_quadratic_epsf(*arguments, settings.psf_grid_nodes), "quadratic"
    else:
        try:
            grid, maps = fit_distorted_epsf(*arguments, settings.psf_grid_nodes)
        except PSFMapError as problem:
            log.warning("the PSF's variation could not be mapped (%s); keeping one ePSF", problem)
            return refined, new_psf, {"psf_model": "constant", **summary}
        model, summary = "distortion", {**summary, **maps}
    log.info(
        "ePSF varying across the image (%s%s), from %d stars, on %d x %d nodes",
        model,
        f", maps of degree {summary['psf_map_degree']}" if "psf_map_degree" in summary else "",
        chosen.size,
        settings.psf_grid_nodes,
        settings.psf_grid_nodes,
    )
    return refined, grid, {"psf_model": model, "psf_grid_nodes": settings.psf_grid_nodes, **summary}
