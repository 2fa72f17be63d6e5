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
from astropy.table import Table
from astropy.wcs import WCS
from numpy.typing import NDArray
from photutils.psf import fit_fwhm
from scipy.ndimage import binary_dilation
from scipy.spatial import cKDTree

from astropipe.photometry.aperture_correction import (
    BACKGROUND_ANNULUS,
    FIT_LIMIT_FWHM,
    FITTED_PART_ANNULUS,
    bootstrap_correction_error,
    clear_of_blank_pixels,
    extrapolated_correction,
    growth_radii,
    growth_ratios,
    median_curve,
)
from astropipe.photometry.background import background_map, noise_map
from astropipe.photometry.detection import MIN_SEPARATION_FWHM, ROUNDNESS_LIMIT, detect_stars
from astropipe.photometry.epsf import bright_psf_stars, build_epsf, select_psf_stars
from astropipe.photometry.fitting import fit_stars, merge_unresolved
from astropipe.photometry.psf_distortion import PSFMapError, fit_distorted_epsf
from astropipe.photometry.psf_grid import VaryingPSFModel, photutils_psf
from astropipe.photometry.psf_model import PSFModel, StampModel
from astropipe.photometry.psf_polynomial import fit_quadratic_epsf
from astropipe.photometry.psf_variation import residual_structure
from astropipe.photometry.saturated_stars import SaturatedCores
from astropipe.photometry.subtraction_error import subtraction_error

__all__ = ["PSFPasses", "PhotometryResult", "PhotometrySettings", "estimate_fwhm", "fit_with_engine", "psf_photometry"]

FLAG_SATURATED = 1
FLAG_EDGE = 2
FLAG_POOR_FIT = 4
#: the aperture correction's stars: within this many magnitudes of the brightest usable one, at most this many;
#: and the seed of its bootstrap error (fixed: the same image gives the same error)
APERTURE_CORRECTION_RANGE_MAG = 1.0
APERTURE_CORRECTION_MAX_STARS = 100
APERTURE_CORRECTION_SEED = 2003
#: PSF stars a varying ePSF may draw on, as a multiple of ``psf_stars``
VARYING_POOL = 3


#: the final ePSF: one for the image, chosen by the residuals' structure, or always varying (as the map of the
#: constant ePSF or quadratically)
PSF_VARIATIONS = ("auto", "constant", "distortion", "quadratic")


@dataclass
class PhotometrySettings:
    """Settings of the photometry (``imaging.photometry`` in the configuration)."""

    detection_nsigma: float = 4.0
    passes: int = 3
    fit_radius_fwhm: float = 1.0
    psf_half_size_fwhm: float = 3.5
    psf_oversampling: int = 2
    psf_stars: int = 80
    aperture_radius_arcsec: float = 5.2
    background_box: int = 32
    engine: str = "fast"
    max_chi: float = 5.0
    companion_separation_fwhm: float = 0.5
    merge_separation_fwhm: float = 0.3
    psf_variation: str = "constant"
    psf_grid_nodes: int = 9
    psf_variation_p: float = 1e-3
    profile_error: float = 0.05

    def __post_init__(self) -> None:
        positive = (
            "detection_nsigma",
            "fit_radius_fwhm",
            "psf_half_size_fwhm",
            "aperture_radius_arcsec",
            "max_chi",
            "companion_separation_fwhm",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"photometry setting {name} = {getattr(self, name)!r}: expected a positive number")
        least_values = (
            ("passes", 1),
            ("psf_oversampling", 1),
            ("psf_stars", 1),
            ("background_box", 2),
            ("psf_grid_nodes", 2),
        )
        for name, least in least_values:
            value = getattr(self, name)
            if not (isinstance(value, int | np.integer) and value >= least):
                raise ValueError(f"photometry setting {name} = {value!r}: expected an integer >= {least}")
        if not 0 <= self.profile_error < 1:
            raise ValueError(f"photometry setting profile_error = {self.profile_error!r}: expected 0 <= value < 1")
        if not self.merge_separation_fwhm >= 0:
            raise ValueError(
                f"photometry setting merge_separation_fwhm = {self.merge_separation_fwhm!r}: expected >= 0"
            )
        if not 0 < self.psf_variation_p < 1:
            raise ValueError(f"photometry setting psf_variation_p = {self.psf_variation_p!r}: expected 0 < p < 1")
        if self.psf_variation not in PSF_VARIATIONS:
            raise ValueError(
                f"photometry setting psf_variation = {self.psf_variation!r}: expected one of {', '.join(PSF_VARIATIONS)}"
            )
        if self.engine not in ("fast", "photutils"):
            raise ValueError(f"photometry setting engine = {self.engine!r}: expected 'fast' or 'photutils'")

    @classmethod
    def from_config(cls, photometry: dict) -> PhotometrySettings:
        """Settings from the ``imaging.photometry`` configuration (other keys ignored)."""
        names = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in photometry.items() if key in names})


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
    """Median FWHM (pixels) of Gaussian fits to up to 40 PSF stars (:func:`select_psf_stars`)."""
    half = int(np.ceil(2 * guess)) | 1
    chosen = select_psf_stars(stars, signal, guess, saturation, half, max_stars=40)
    if len(chosen) < 3:
        return guess
    size = 2 * half + 1
    fwhm = fit_fwhm(np.nan_to_num(signal), xypos=np.column_stack([chosen["x"], chosen["y"]]), fit_shape=size)
    fwhm = np.asarray(fwhm, float)
    fwhm = fwhm[np.isfinite(fwhm) & (fwhm > 0.5) & (fwhm < 5 * guess)]
    return float(np.median(fwhm)) if fwhm.size >= 3 else guess


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
    stars = _Stars.detected(detections, psf, found_in=1)
    for pass_number in range(1, settings.passes + 1):
        stars.fit(settings, signal, noise, psf, fit_radius, saturated, fwhm, cores)
        stars_model = psf.image(signal.shape, stars.x, stars.y, stars.flux)
        if pass_number == 1:
            # background again on the image with every fitted star removed, then the ePSF
            # again from PSF stars with their neighbours subtracted (DAOPHOT's second PSF pass)
            signal, noise, background = _background_and_noise(
                image - stars_model,
                image,
                exposure,
                gain,
                settings,
                mask=source_mask_small(stars.x, stars.y, fwhm, image.shape),
            )
            if psfs is not None:
                psf = psfs.final
            else:
                psf_stars, psf, variation = _rebuild_epsf(
                    signal,
                    stars_model,
                    psf,
                    (psf_stars, psf_pool),
                    stars,
                    half,
                    fwhm,
                    fit_radius,
                    settings,
                    log,
                    saturated=saturated,
                )
            stars_model = psf.image(signal.shape, stars.x, stars.y, stars.flux)
        residual = signal - stars_model
        if pass_number == settings.passes:
            break
        # a poor fit may hide a companion, unless the star is saturated (its fit is poor for a known reason)
        poor_fit = (
            ~(stars.chi < settings.max_chi)
            & ~saturated[_pixel(stars.y, signal.shape[0]), _pixel(stars.x, signal.shape[1])]
        )
        model_error = subtraction_error(psf, stars.x, stars.y, stars.flux, stars_model, settings.profile_error)
        new = _residual_detections(residual, noise, model_error, fwhm, stars.x, stars.y, poor_fit, settings)
        log.info("pass %d: %d stars fitted, %d new detections in the residual", pass_number, stars.x.size, len(new))
        if len(new) == 0:
            break
        stars.extend(_Stars.detected(new, psf, found_in=pass_number + 1))
    log.info("final: %d stars", stars.x.size)
    catalog = _catalog(stars, image, saturation, fit_radius, settings.max_chi, wcs)
    meta = {"fwhm_px": fwhm, "fit_radius_px": fit_radius, "n_psf_stars": len(psf_stars), "engine": settings.engine}
    meta.update(variation)
    if aperture_correction:
        meta.update(_aperture_correction(residual, catalog, psf, settings, pixel_scale, fwhm, log))
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


@dataclass
class _Stars:
    """The star list of the passes: positions, fluxes, errors, chi, and the detection's shape statistics
    and pass of every star."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    flux: NDArray[np.float64]
    sharp: NDArray[np.float64]
    round_: NDArray[np.float64]
    found_in: NDArray[np.int64]
    flux_err: NDArray[np.float64] | None = None
    chi: NDArray[np.float64] | None = None

    @classmethod
    def detected(cls, found: Table, psf: PSFModel, found_in: int) -> _Stars:
        """New stars from detections: the flux starts as the peak over the ePSF's central value."""
        peak = np.maximum(np.asarray(found["peak"], float), 0.0)
        return cls(
            x=np.asarray(found["x"], float),
            y=np.asarray(found["y"], float),
            flux=peak / max(float(psf(np.zeros(1), np.zeros(1))[0]), 1e-12),
            sharp=np.asarray(found["sharpness"], float),
            round_=np.asarray(found["roundness"], float),
            found_in=np.full(len(found), found_in),
        )

    def extend(self, other: _Stars) -> None:
        for name in ("x", "y", "flux", "sharp", "round_", "found_in"):
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))
        for name in ("flux_err", "chi"):  # known once fitted; NaN for the new stars until then
            if getattr(self, name) is not None:
                extra = getattr(other, name)
                extra = np.full(other.x.size, np.nan) if extra is None else extra
                setattr(self, name, np.concatenate([getattr(self, name), extra]))

    def fit(self, settings: PhotometrySettings, signal, noise, psf, fit_radius, bad, fwhm, cores) -> None:
        """Fit every star (the engine of ``settings``) and keep those the fit keeps.

        Each saturated core has one star (:meth:`SaturatedCores.claim`: the pieces on it dropped, a star
        added at the centroid of a core without one); those are fitted first, against the image less the
        other stars, over the largest core's radius plus ``fit_radius`` (within the ePSF's stamp) with the
        saturated pixels ``bad`` left out; then the others, against the image less the saturated stars.
        """
        on_core = self._settle_on_cores(cores, fwhm)
        self.flux_err = np.full(self.x.size, np.nan) if self.flux_err is None else self.flux_err
        self.chi = np.full(self.x.size, np.nan) if self.chi is None else self.chi
        kept = np.ones(self.x.size, dtype=bool)
        if on_core.any():
            others = psf.image(signal.shape, self.x[~on_core], self.y[~on_core], self.flux[~on_core])
            radius = min(float(cores.radius.max()) + fit_radius, psf.half - 1.0)
            kept[on_core] = self._fit_some(on_core, settings.engine, signal - others, noise, psf, radius, bad, 0.0)
        saturated_stars = on_core & kept
        saturated_model = psf.image(
            signal.shape, self.x[saturated_stars], self.y[saturated_stars], self.flux[saturated_stars]
        )
        merge_separation = settings.merge_separation_fwhm * fwhm
        kept[~on_core] = self._fit_some(
            ~on_core, settings.engine, signal - saturated_model, noise, psf, fit_radius, bad, merge_separation
        )
        self._keep(kept)

    def _fit_some(self, which, engine, signal, noise, psf, fit_radius, bad, merge_separation) -> NDArray[np.bool_]:
        """Fit the stars ``which`` on ``signal``, store what the fit found, return which of them it keeps."""
        if not which.any():
            return np.zeros(0, dtype=bool)
        x, y, flux, flux_err, chi, kept = fit_with_engine(
            engine,
            signal,
            noise,
            psf,
            self.x[which],
            self.y[which],
            self.flux[which],
            fit_radius=fit_radius,
            bad=bad,
            merge_separation=merge_separation,
        )
        self.x[which], self.y[which], self.flux[which] = x, y, flux
        self.flux_err[which], self.chi[which] = flux_err, chi
        return np.asarray(kept, dtype=bool)

    def _settle_on_cores(self, cores, fwhm) -> NDArray[np.bool_]:
        """Drop the pieces of stars on saturated cores, give a star to every core without one (at its centroid);
        return which stars are the cores' stars."""
        pieces = cores.claim(self.x, self.y, fwhm)[1]
        self._keep(~np.isin(np.arange(self.x.size), pieces))
        missing = np.flatnonzero(cores.claim(self.x, self.y, fwhm)[0] < 0)
        if missing.size:
            n = missing.size
            self.extend(
                _Stars(
                    x=cores.x[missing],
                    y=cores.y[missing],
                    flux=np.ones(n),
                    sharp=np.full(n, np.nan),
                    round_=np.full(n, np.nan),
                    found_in=np.ones(n, dtype=np.int64),
                    flux_err=np.full(n, np.nan),
                    chi=np.full(n, np.nan),
                )
            )
        return cores.claim(self.x, self.y, fwhm)[2] >= 0

    def _keep(self, kept: NDArray[np.bool_]) -> None:
        for name in ("x", "y", "flux", "sharp", "round_", "found_in", "flux_err", "chi"):
            if getattr(self, name) is not None:
                setattr(self, name, getattr(self, name)[kept])


def _pixel(coordinate: NDArray[np.float64], size: int) -> NDArray[np.int64]:
    """Nearest pixel index along one axis, clipped to the image."""
    return np.clip(np.round(coordinate).astype(int), 0, size - 1)


def _residual_detections(residual, noise, model_error, fwhm, x, y, poor_fit, settings: PhotometrySettings) -> Table:
    """New stars in the subtracted image: those clear of every fitted star, and the companions of poor fits.

    The threshold is ``detection_nsigma`` times the noise and the subtracted models' uncertainty
    ``model_error`` (:func:`astropipe.photometry.subtraction_error.subtraction_error`) in quadrature.

    A detection within ``MIN_SEPARATION_FWHM`` of a fitted star is that star's
    own subtraction residual, unless the star's fit is poor (``poor_fit``:
    ``chi`` >= ``max_chi``, not saturated): a pair fitted as one star leaves a
    crescent-shaped positive lobe beyond each component, ~0.8 FWHM from the
    fitted centre and too elongated for DAOFIND's roundness cut. Such a star
    gets its strongest lobe (beyond ``companion_separation_fwhm``) as a second
    star, and the next pass fits the two (the DAOPHOT practice of looking for
    the companions of high-chi stars in the subtracted image). Detections
    clear of every star keep the roundness cut of the first pass.
    """
    found = detect_stars(
        residual,
        noise,
        fwhm,
        nsigma=settings.detection_nsigma,
        roundness_range=(-2 * ROUNDNESS_LIMIT, 2 * ROUNDNESS_LIMIT),
        model_error=model_error,
    )
    if len(found) == 0 or x.size == 0:
        return found
    distance, nearest = cKDTree(np.column_stack([x, y])).query(np.column_stack([found["x"], found["y"]]))
    round_enough = np.abs(np.asarray(found["roundness"], float)) <= ROUNDNESS_LIMIT
    clear = (distance > MIN_SEPARATION_FWHM * fwhm) & round_enough
    candidate = np.flatnonzero(
        (distance <= MIN_SEPARATION_FWHM * fwhm)
        & poor_fit[nearest]
        & (distance > settings.companion_separation_fwhm * fwhm)
    )
    # one companion per poorly fitted star: its highest residual peak
    order = candidate[np.lexsort((-np.asarray(found["peak"], float)[candidate], nearest[candidate]))]
    strongest = order[np.r_[True, nearest[order[1:]] != nearest[order[:-1]]]] if order.size else order
    keep = clear.copy()
    keep[strongest] = True
    return found[keep]


def wing_mask(stars: Table, fwhm: float, rms: float, shape, beta: float = 3.0) -> NDArray[np.bool_]:
    """Mask each star out to the radius where a Moffat-like wing of its peak drops below rms / 2.

    r = alpha sqrt((peak / (rms/2))^(1/beta) - 1), clipped to [1.5, 4] FWHM.
    """
    alpha = fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
    peak = np.clip(np.asarray(stars["peak"], float), 0.0, None)
    radius = alpha * np.sqrt(np.clip((peak / (0.5 * rms)) ** (1.0 / beta) - 1.0, 0.0, None))
    radius = np.clip(radius, 1.5 * fwhm, 4.0 * fwhm)
    mask = np.zeros(shape, dtype=bool)
    yy, xx = np.ogrid[: shape[0], : shape[1]]
    for x0, y0, r in zip(np.asarray(stars["x"]), np.asarray(stars["y"]), radius.tolist(), strict=True):
        x_lo, x_hi = max(0, int(x0 - r)), min(shape[1], int(x0 + r) + 2)
        y_lo, y_hi = max(0, int(y0 - r)), min(shape[0], int(y0 + r) + 2)
        mask[y_lo:y_hi, x_lo:x_hi] |= (xx[:, x_lo:x_hi] - x0) ** 2 + (yy[y_lo:y_hi] - y0) ** 2 <= r * r
    return mask


def _rebuild_epsf(
    signal, stars_model, psf, psf_selection, stars: _Stars, half, fwhm, fit_radius, settings, log, saturated
):
    """The final ePSF from the PSF stars on the image with every other star subtracted (saturated pixels
    ``saturated`` left out: there the subtracted model of a saturated neighbour leaves a deep hole): constant, or
    varying across the image (``psf_variation``: 'distortion', the constant ePSF under a local linear map, or
    'quadratic'; 'auto' takes the first when the constant one's residuals vary with position). Returns (PSF
    stars, ePSF, what the variation test and the varying fit found)."""
    psf_stars, pool = psf_selection
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


def source_mask_small(x, y, fwhm: float, shape) -> NDArray[np.bool_]:
    """Pixels within one FWHM of the given stars (the cores that subtraction leaves noisiest)."""
    mask = np.zeros(shape, dtype=bool)
    mask[_pixel(y, shape[0]), _pixel(x, shape[1])] = True
    return binary_dilation(mask, iterations=max(1, int(round(fwhm))))


def _catalog(stars: _Stars, image, saturation, fit_radius, max_chi, wcs) -> Table:
    """The catalogue of the fitted stars, with flags (saturated, near an edge, poor fit) and sky positions."""
    x, y, flux, flux_err, chi = stars.x, stars.y, stars.flux, stars.flux_err, stars.chi
    ny, nx = image.shape
    xi, yi = _pixel(x, nx), _pixel(y, ny)
    flags = np.zeros(x.size, dtype=np.int16)
    peak = np.nan_to_num(image[yi, xi], nan=0.0)
    flags[peak > saturation] |= FLAG_SATURATED
    edge_mask = binary_dilation(~np.isfinite(image), iterations=int(np.ceil(fit_radius)))
    flags[
        edge_mask[yi, xi] | (x < fit_radius) | (y < fit_radius) | (x > nx - 1 - fit_radius) | (y > ny - 1 - fit_radius)
    ] |= FLAG_EDGE
    flags[~(chi < max_chi)] |= FLAG_POOR_FIT
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = -2.5 * np.log10(flux)
        mag_err = 2.5 / np.log(10) * flux_err / flux
    table = Table()
    table["id"] = np.arange(1, x.size + 1)
    table["x"], table["y"] = x, y
    if wcs is not None:
        sky = wcs.pixel_to_world(x, y)
        table["ra"], table["dec"] = sky.icrs.ra.deg, sky.icrs.dec.deg
        table["ra"].unit = table["dec"].unit = "deg"
    table["flux"], table["flux_err"] = flux, flux_err
    table["mag_inst"], table["mag_inst_err"] = mag, mag_err
    table["mag_inst"].unit = table["mag_inst_err"].unit = "mag"
    table["chi"], table["sharpness"], table["roundness"] = chi, stars.sharp, stars.round_
    table["pass"] = stars.found_in
    table["flags"] = flags
    table["x"].description = "0-based pixel column of the image"
    table["flux"].description = "PSF flux in image units (e.g. adu/s) within the ePSF footprint"
    table["mag_inst"].description = "-2.5 log10(flux); add the aperture correction for the standards' aperture"
    table["flags"].description = "1 saturated, 2 near an edge or uncovered pixels, 4 chi above max_chi"
    return table


def _aperture_correction(residual, catalog, psf, settings, pixel_scale, fwhm, log) -> dict:
    """The correction from PSF to the standards' aperture, its error from resampling the stars.

    Measured on the brightest unflagged stars clear of saturated ones (none within 1.4 apertures) whose
    fitted part of the curve and its background annulus hold no blank pixel, those within
    ``APERTURE_CORRECTION_RANGE_MAG`` of the brightest, at most ``APERTURE_CORRECTION_MAX_STARS``, on the
    image with every other star subtracted: what is left of the background and of the neighbours'
    subtraction in the aperture is a fixed amount of light, the smaller a fraction the brighter the star.
    The curve measured out to the aperture (``curve_of_growth_ratio``, ``aperture_correction_direct_mag``)
    comes from those of them whose whole aperture and annulus hold none (NaN when fewer than three).
    """
    radius = settings.aperture_radius_arcsec / pixel_scale
    fit_limit = FIT_LIMIT_FWHM * fwhm
    fitted_part_annulus = (FITTED_PART_ANNULUS[0] * fit_limit, FITTED_PART_ANNULUS[1] * fit_limit)
    flags = np.asarray(catalog["flags"])
    flux = np.asarray(catalog["flux"], float)
    usable = (flags == 0) & np.isfinite(flux) & (flux > 0)
    saturated = (flags & FLAG_SATURATED) > 0
    if saturated.any() and usable.any():  # no saturated star (badly subtracted core) inside the aperture
        near, _ = cKDTree(np.column_stack([catalog["x"][saturated], catalog["y"][saturated]])).query(
            np.column_stack([catalog["x"], catalog["y"]])
        )
        usable &= near > 1.4 * radius
    usable &= clear_of_blank_pixels(residual, catalog["x"], catalog["y"], fitted_part_annulus[1])
    failed = {"aperture_correction_mag": float("nan"), "aperture_correction_err_mag": float("nan")}
    if usable.sum() < 3:
        log.warning("aperture correction: fewer than 3 unflagged stars clear of saturated ones and blank pixels")
        return failed
    bright = usable & (flux >= flux[usable].max() * 10 ** (-0.4 * APERTURE_CORRECTION_RANGE_MAG))
    chosen = np.flatnonzero(bright)[np.argsort(-flux[bright])][:APERTURE_CORRECTION_MAX_STARS]
    if chosen.size < 3:
        chosen = np.flatnonzero(usable)[np.argsort(-flux[usable])][:3]
    x, y, flux = (np.asarray(catalog[c], float)[chosen] for c in ("x", "y", "flux"))
    isolated = residual + psf.image(residual.shape, x, y, flux)
    radii = growth_radii(radius)
    inner = radii[radii <= fit_limit]
    try:
        inner_ratios = growth_ratios(isolated, x, y, flux, inner, fitted_part_annulus)
        correction, beta = extrapolated_correction(inner, *median_curve(inner_ratios), fwhm, radius, fit_limit)
        rng = np.random.default_rng(APERTURE_CORRECTION_SEED)
        correction_err = bootstrap_correction_error(inner, inner_ratios, fwhm, radius, fit_limit, rng)
    except (ValueError, RuntimeError) as problem:
        log.warning("aperture correction: %s", problem)
        return failed
    n = len(inner_ratios)
    whole = clear_of_blank_pixels(residual, x, y, BACKGROUND_ANNULUS[1] * radius)
    ratio = np.full(radii.size, np.nan)
    if whole.sum() >= 3:
        ratio = median_curve(growth_ratios(isolated, x[whole], y[whole], flux[whole], radii))[0]
    direct = -2.5 * np.log10(ratio[-1]) if ratio[-1] > 0 else float("nan")
    log.info(
        "aperture correction to R = %.1f px: %.4f +- %.4f mag (%d stars; Moffat beta %.2f; direct %.4f from %d)",
        radius,
        correction,
        correction_err,
        n,
        beta,
        direct,
        int(whole.sum()),
    )
    return {
        "aperture_radius_px": float(radius),
        "aperture_correction_mag": correction,
        "aperture_correction_err_mag": correction_err,
        "aperture_correction_direct_mag": float(direct),
        "aperture_correction_n_stars": n,
        "curve_of_growth_beta": beta,
        "curve_of_growth_radii_px": [float(r) for r in radii],
        "curve_of_growth_ratio": [float(r) for r in ratio],
    }
