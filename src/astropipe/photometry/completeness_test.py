"""The artificial-star test of one stack, replaying its catalogue run (DAOPHOT's ADDSTAR + ALLSTAR).

:func:`artificial_star_test` injects rounds of stars with the run's final ePSF into the stack, between the
5th percentile of the catalogue's magnitudes and 1 mag below its 99th, re-runs :func:`psf_photometry` with
the run's own two ePSFs (:class:`PSFPasses`, so that an image without injected stars gives the catalogue
back bit for bit), and tabulates completeness, bias and scatter per magnitude bin with the 50 % limit.
"""

from __future__ import annotations

import logging

import numpy as np
from astropy.io.fits import Header
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.io.rule_log import Progress
from astropipe.photometry.artificial_stars import completeness_limit, completeness_table, inject_and_recover
from astropipe.photometry.pipeline import PSFPasses, psf_photometry
from astropipe.photometry.settings import PhotometrySettings

__all__ = ["artificial_star_test"]


def artificial_star_test(
    image: NDArray,
    header: Header,
    exposure: NDArray,
    psfs: PSFPasses,
    catalog: Table,
    photometry: dict,
    rng: np.random.Generator,
    log: logging.Logger | None = None,
) -> tuple[Table, Table]:
    """Artificial stars injected into one stack and measured as its catalogue was.

    Parameters
    ----------
    image, exposure : numpy.ndarray
        The stack (ADU/s) and its exposure map.
    header : astropy.io.fits.Header
        The stack's header (``PIXSCALE``, ``GAIN``, ``SATURATE``).
    psfs : PSFPasses
        The two ePSFs of the catalogue run (``psf.fits``).
    catalog : astropy.table.Table
        The catalogue run's stars (``mag_inst``).
    photometry : dict
        ``imaging.photometry`` (its ``artificial_stars``: ``rounds``, ``fraction``, ``minimum_per_round``,
        ``bin_width_mag``).
    rng : numpy.random.Generator
    log : logging.Logger, optional

    Returns
    -------
    completeness : astropy.table.Table
        Per magnitude bin (instrumental); ``meta`` ``mag50_inst``.
    injected : astropy.table.Table
        One row per injected star.
    """
    log = log or logging.getLogger(__name__)
    settings = PhotometrySettings.from_config(photometry)
    ast = photometry["artificial_stars"]
    scale, gain = float(header["PIXSCALE"]), float(header["GAIN"])
    progress = Progress(log, "artificial-star rounds", ast["rounds"])
    rounds_done = [0]

    def measure(data: NDArray) -> Table:
        measured = psf_photometry(
            data,
            fwhm_guess=photometry["fwhm_guess_arcsec"] / scale,
            pixel_scale=scale,
            saturation=float(header["SATURATE"]),
            exposure=exposure,
            gain=gain,
            settings=settings,
            psfs=psfs,
            aperture_correction=False,
        ).catalog
        rounds_done[0] += 1
        progress.update(rounds_done[0])
        return measured

    magnitudes = np.asarray(catalog["mag_inst"], float)
    magnitudes = magnitudes[np.isfinite(magnitudes)]
    magnitude_range = (float(np.percentile(magnitudes, 5)), float(np.percentile(magnitudes, 99)) + 1.0)
    per_round = max(ast["minimum_per_round"], int(ast["fraction"] * len(catalog)))
    injected = inject_and_recover(
        image, psfs.final, measure, per_round, magnitude_range, ast["rounds"], rng, gain=gain, log=log
    )
    table = completeness_table(injected, ast["bin_width_mag"])
    table.meta["mag50_inst"] = completeness_limit(table, 0.5)
    table.meta["description"] = "artificial-star completeness and photometric bias (instrumental magnitudes)"
    log.info("50%% completeness at instrumental magnitude %.2f", table.meta["mag50_inst"])
    return table, injected
