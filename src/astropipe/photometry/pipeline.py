"""PSF photometry of one image: background, detection, ePSF, simultaneous fit, re-detection passes.

The DAOPHOT/ALLSTAR recipe: detect against the local noise; build an
empirical PSF from bright unsaturated stars clear of brighter neighbours; fit every star
simultaneously; subtract, detect what the subtraction uncovers, and refit
everything (``passes`` times); measure the aperture correction on the
brightest stars. A detection in the subtracted image closer than 0.8 FWHM to a fitted
star is taken for that star's own residual, except around unsaturated stars
whose fit is poor (``chi`` >= ``max_chi``): there it may be the companion of
an unresolved pair and is added down to ``companion_separation_fwhm``, so the
next pass fits the pair as two stars (the DAOPHOT practice of looking for the
companions of high-chi stars in the subtracted image); stars that converge
closer than ``merge_separation_fwhm`` are merged (ALLSTAR). A saturated star is
one star, fitted on its wings (:mod:`astropipe.photometry.saturated_stars`), and a
new star in the subtracted image must stand out against the uncertainty of the
models subtracted there as well as the noise
(:mod:`astropipe.photometry.subtraction_error`). The fitting engine is
this package's vectorised fitter (``fast``) or photutils' ``PSFPhotometry``
(``photutils``, the reference), on the same stars with the same ePSF.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from astropy.stats import biweight_location
from astropy.table import Table
from astropy.wcs import WCS
from numpy.typing import NDArray
from photutils.psf import fit_fwhm
from scipy.ndimage import binary_dilation

from astropipe.photometry.background import background_map, noise_map
from astropipe.photometry.catalog import photometry_catalog
from astropipe.photometry.detection import detect_stars
from astropipe.photometry.epsf import bright_psf_stars, build_epsf, select_psf_stars
from astropipe.photometry.field_aperture_correction import measure_aperture_correction
from astropipe.photometry.psf_grid import VaryingPSFModel
from astropipe.photometry.psf_model import PSFModel
from astropipe.photometry.residual_detection import residual_detections
from astropipe.photometry.saturated_stars import SaturatedCores
from astropipe.photometry.second_psf_pass import rebuild_epsf
from astropipe.photometry.settings import PhotometrySettings
from astropipe.photometry.star_list import StarList
from astropipe.photometry.star_masks import core_mask, nearest_pixel, wing_mask
from astropipe.photometry.subtraction_error import subtraction_error

__all__ = ["PSFPasses", "PhotometryResult", "estimate_fwhm", "psf_photometry"]

#: PSF stars a varying ePSF may draw on, as a multiple of ``psf_stars``
VARYING_POOL = 3
#: PSF stars behind the image's FWHM at most, brightest first. The median of 40 moved by 0.1 px (their FWHM
#: spreads 0.5-0.7 px over SOFI's distorted field) when two stars entered or left the selection after a change
#: of the frames of 1 % of their pixel noise, and every size the photometry takes from it followed; under a 1 %
#: change of the cross-talk correction it moved by 0.04 px, the biweight location of 150 by 0.001-0.004 px.
FWHM_STARS = 150


@dataclass(frozen=True)
class PSFPasses:
    """The two ePSFs of one photometry run: the first pass's and the final one.

    The first is built from the PSF stars on the image as detected; the final
    one is rebuilt after pass 1 with every neighbour subtracted (DAOPHOT's
    second PSF pass), varying with position when ``psf_variation`` asks for it
    (tabulated on a grid of nodes), and fits passes 2 onwards. Handing both back to
    :func:`psf_photometry` replays the run's sequence exactly, which the
    artificial-star tests need: the background is re-estimated from the image
    minus the pass-1 models, so a run with the final ePSF throughout subtracts
    other wing light and measures on another sky (0.3 ADU and up to 0.13 mag
    at the faint end of a SOFI stack).
    """

    first: PSFModel
    final: PSFModel | VaryingPSFModel


@dataclass
class PhotometryResult:
    """Catalogue, ePSFs, residual and background of one image."""

    catalog: Table
    psfs: PSFPasses
    residual: NDArray[np.float64]
    background: NDArray[np.float64]
    meta: dict = field(default_factory=dict)


def estimate_fwhm(signal: NDArray[np.float64], stars: Table, guess: float, saturation: float) -> float:
    """The image's FWHM (pixels): biweight location of Gaussian fits to up to :data:`FWHM_STARS` PSF stars
    (:func:`select_psf_stars`), or ``guess`` when fewer than 3 fits succeed."""
    half = int(np.ceil(2 * guess)) | 1
    chosen = select_psf_stars(stars, signal, guess, saturation, half, max_stars=FWHM_STARS)
    if len(chosen) < 3:
        return guess
    size = 2 * half + 1
    fwhm = fit_fwhm(np.nan_to_num(signal), xypos=np.column_stack([chosen["x"], chosen["y"]]), fit_shape=size)
    fwhm = np.asarray(fwhm, float)
    fwhm = fwhm[np.isfinite(fwhm) & (fwhm > 0.5) & (fwhm < 5 * guess)]
    return float(biweight_location(fwhm)) if fwhm.size >= 3 else guess


def psf_photometry(
    image: NDArray[np.float64],
    *,
    fwhm_guess: float,
    pixel_scale: float,
    saturation: float = np.inf,
    exposure: NDArray[np.float64] | None = None,
    gain: float | None = None,
    wcs: WCS | None = None,
    settings: PhotometrySettings | None = None,
    psfs: PSFPasses | None = None,
    aperture_correction: bool = True,
    log: logging.Logger | None = None,
) -> PhotometryResult:
    """Measure every star of ``image``.

    Parameters
    ----------
    image : numpy.ndarray
        Stacked (or any reduced) image; NaN where not covered.
    fwhm_guess : float
        Approximate PSF FWHM in pixels (refined from the image).
    pixel_scale : float
        arcsec per pixel (for the aperture-correction radius).
    saturation : float
        Pixel value (image units, background included) above which pixels are saturated.
    exposure : numpy.ndarray, optional
        Exposure map (noise scales with depth).
    gain : float, optional
        Effective gain at full depth (source Poisson noise).
    wcs : astropy.wcs.WCS, optional
        For sky coordinates in the catalogue.
    settings : PhotometrySettings, optional
    psfs : PSFPasses, optional
        The ePSFs of an earlier run on this image, used as they are instead of
        being built (artificial-star tests): the first for pass 1, the final
        one from the background re-estimate on, as in that run.
    aperture_correction : bool
        Measure the aperture correction (``meta``); the artificial-star rounds, which use the catalogue
        run's, skip it.
    log : logging.Logger, optional

    Returns
    -------
    PhotometryResult

    Examples
    --------
    A 6 x 6 grid of Moffat stars of 20,000 counts each (FWHM 3 px) on unit noise: every star is found,
    and the aperture-corrected fluxes are the total fluxes.

    >>> import numpy as np
    >>> from astropipe.simulate.psf import render_stars
    >>> x, y = np.meshgrid(np.arange(6) * 30.0 + 25.0, np.arange(6) * 30.0 + 25.0)
    >>> image = render_stars((200, 200), x.ravel(), y.ravel(), np.full(36, 20000.0), 3.0, 3.0)
    >>> image += np.random.default_rng(1).normal(0.0, 1.0, image.shape)
    >>> result = psf_photometry(image, fwhm_guess=3.0, pixel_scale=0.145)
    >>> bright = result.catalog[result.catalog["flux"] > 1000]
    >>> len(bright)
    36
    >>> total = np.median(bright["flux"]) * 10 ** (-0.4 * result.meta["aperture_correction_mag"])
    >>> round(float(total) / 20000.0, 2)
    1.0
    """
    settings = settings or PhotometrySettings()
    log = log or logging.getLogger(__name__)
    if np.isfinite(image).sum() < 1000:
        raise ValueError("image has fewer than 1000 finite pixels")
    signal, noise, background, fwhm = _background_and_fwhm(image, fwhm_guess, saturation, exposure, gain, settings)
    saturated_cores = np.nan_to_num(image, nan=0.0) > saturation
    saturated = binary_dilation(saturated_cores, iterations=1)
    cores = SaturatedCores.from_mask(saturated_cores)
    detections = detect_stars(signal, noise, fwhm, nsigma=settings.detection_nsigma)
    log.info("FWHM %.2f px; pass 1: %d detections", fwhm, len(detections))
    half = int(np.ceil(settings.psf_half_size_fwhm * fwhm))
    # the brightest psf_stars build the constant ePSF; a varying one draws on up to VARYING_POOL times as many
    psf_pool = select_psf_stars(
        detections,
        signal,
        fwhm,
        saturation - np.nanmedian(background),
        half,
        settings.psf_stars * VARYING_POOL,
    )
    psf_stars = bright_psf_stars(psf_pool[: settings.psf_stars], settings.psf_oversampling)
    if psfs is not None:
        psf = psfs.first
    else:
        psf = build_epsf(signal, psf_stars, half, settings.psf_oversampling, bad=saturated)[0]
        log.info("ePSF from %d stars", len(psf_stars))
    first_psf = psf
    variation: dict = {}
    fit_radius = max(2.0, settings.fit_radius_fwhm * fwhm)
    stars = StarList.detected(detections, psf, found_in=1)
    for pass_number in range(1, settings.passes + 1):
        stars.fit(settings, signal, noise, psf, fit_radius, saturated, fwhm, cores)
        if pass_number == 1:
            # background again on the image with every fitted star removed, then the ePSF again from
            # PSF stars with their neighbours subtracted (DAOPHOT's second PSF pass); both with the ePSF
            # models alone: the saturated stars' wings are measured against the background they would
            # change, and were measured against the first one
            stars_model = psf.image(signal.shape, stars.x, stars.y, stars.flux)
            signal, noise, background = _background_and_noise(
                image - stars_model,
                image,
                exposure,
                gain,
                settings,
                mask=core_mask(stars.x, stars.y, fwhm, image.shape),
            )
            if psfs is not None:
                psf = psfs.final
            else:
                psf_stars, psf, variation = rebuild_epsf(
                    signal,
                    stars_model,
                    psf,
                    psf_stars,
                    psf_pool,
                    stars,
                    half=half,
                    fwhm=fwhm,
                    fit_radius=fit_radius,
                    settings=settings,
                    log=log,
                    saturated=saturated,
                )
        stars_model = stars.model(psf, signal.shape)
        residual = signal - stars_model
        if pass_number == settings.passes:
            break
        # a poor fit may hide a companion, unless the star is saturated (its fit is poor for a known reason)
        poor_fit = (
            ~(stars.chi < settings.max_chi)
            & ~saturated[nearest_pixel(stars.y, signal.shape[0]), nearest_pixel(stars.x, signal.shape[1])]
        )
        model_error = subtraction_error(psf, stars.x, stars.y, stars.flux, stars_model, settings.profile_error)
        new = residual_detections(residual, noise, model_error, fwhm, stars.x, stars.y, poor_fit, settings)
        log.info("pass %d: %d stars fitted, %d new detections in the residual", pass_number, stars.x.size, len(new))
        if len(new) == 0:
            break
        stars.extend(StarList.detected(new, psf, found_in=pass_number + 1))
    log.info("final: %d stars", stars.x.size)
    catalog = photometry_catalog(stars, image, saturation, fit_radius, settings.max_chi, wcs)
    meta = {"fwhm_px": fwhm, "fit_radius_px": fit_radius, "n_psf_stars": len(psf_stars), "engine": settings.engine}
    meta.update(variation)
    if aperture_correction:
        meta.update(
            measure_aperture_correction(residual, catalog, psf, settings.aperture_radius_arcsec, pixel_scale, fwhm, log)
        )
    catalog.meta.update(meta)
    passes = PSFPasses(first=first_psf, final=psf)
    return PhotometryResult(catalog=catalog, psfs=passes, residual=residual, background=background, meta=meta)


def _background_and_noise(data, image, exposure, gain, settings: PhotometrySettings, mask=None):
    """(signal, noise, background): the background mesh of ``data`` (stars masked by ``mask``), the image
    less it, and the noise of every pixel (background rms, source Poisson noise, exposure map)."""
    background, rms = background_map(data, mask=mask, box=settings.background_box)
    signal = image - background
    return signal, noise_map(rms, signal, exposure, gain), background


def _background_and_fwhm(image, fwhm_guess, saturation, exposure, gain, settings: PhotometrySettings):
    """The first background and the FWHM: a background, the brightest detections (5 sigma), their FWHM,
    then the background again with each star masked to where its wings fall below half the noise.
    Returns (signal, noise, background, fwhm)."""
    background, rms = background_map(image, box=settings.background_box)
    signal = image - background
    noise = noise_map(rms, signal, exposure, gain)
    first = detect_stars(signal, noise, fwhm_guess, nsigma=max(settings.detection_nsigma, 5.0))
    fwhm = estimate_fwhm(signal, first, fwhm_guess, saturation)
    mask = wing_mask(first, fwhm, float(np.nanmedian(rms)), image.shape)
    signal, noise, background = _background_and_noise(image, image, exposure, gain, settings, mask=mask)
    return signal, noise, background, fwhm
