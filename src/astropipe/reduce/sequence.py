"""Reduce one dithered sequence (night, field, filter) to a stack: the two-pass recipe.

1. calibrate each frame: linearize(decrosstalk(raw - dark)) / flat, bad pixels NaN;
2. first-pass sky from the time-adjacent frames, masking bright pixels;
3. register: header offsets refined by cross-correlation, then by star matching;
4. first stack, object mask from it (everything above ``mask_nsigma`` on the
   stack, grown by ``mask_grow`` pixels), projected back into every frame;
5. second-pass sky with that mask; each frame's transparency (flux scale) and
   seeing measured on the reference frame's bright stars in the frame less its
   constant sky level (:mod:`astropipe.reduce.frame_quality`);
6. re-stack: frames divided by their flux scale, sigma-clipped mean weighted for
   point sources (scale^2 / (sky x FWHM^2)) in ADU/s, exposure map in seconds,
   WCS of the reference frame on the canvas.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from astropy.table import Table
from astropy.wcs import WCS
from numpy.typing import NDArray
from scipy.ndimage import binary_dilation
from scipy.ndimage import shift as ndi_shift

from astropipe.io.raw_frames import open_raw_frame, read_raw_data
from astropipe.reduce.calibration import calibrate_frame
from astropipe.reduce.frame_quality import FrameQuality, combine_weights, measure_frame_quality
from astropipe.reduce.registration import (
    ReferenceStars,
    RegistrationError,
    prepare_for_correlation,
    refine_offset,
    refine_with_stars,
)
from astropipe.reduce.sky import bright_pixel_mask, frame_level, running_sky
from astropipe.reduce.stack import canvas_margin, combine, place_on_canvas

__all__ = ["StackResult", "reduce_sequence"]

#: stars for the flux scales are taken this many FWHM from the reference frame's edges
APERTURE_BORDER_FWHM = 5.0
#: stars offered to the frames' flux scales and seeing: in the crowded Object 11 field only a third of them
#: stay clean of saturated neighbours and bad pixels in every frame; 60 left the Ks scales 0.44-0.76 % rms
#: off the injected transparency on three simulated nights, 120 left 0.25-0.51 % (200: no better)
FLUX_SCALE_STARS = 120


@dataclass
class StackResult:
    """A reduced sequence."""

    image: NDArray[np.float64]  # ADU/s, sky-subtracted
    exposure: NDArray[np.float64]  # seconds of exposure per pixel
    header: fits.Header
    offsets: Table  # per frame: path, header and refined offsets, sky level and noise


def _project_mask(canvas_mask: NDArray[np.bool_], offset, margin: int, shape) -> NDArray[np.bool_]:
    ny, nx = shape
    moved = ndi_shift(canvas_mask.astype(float), (offset[1], offset[0]), order=1, mode="constant", cval=0.0)
    return moved[margin : margin + ny, margin : margin + nx] > 0.01


def _stack(sky_subtracted, offsets, margin, weights, sigma):
    placed = [place_on_canvas(image, offset, margin) for image, offset in zip(sky_subtracted, offsets, strict=True)]
    return combine([p[0] for p in placed], weights, sigma), [p[1] for p in placed]


def reduce_sequence(
    frames: Table,
    dark: NDArray[np.float64],
    flat: NDArray[np.float64],
    bad: NDArray[np.bool_],
    *,
    sky_window: int = 6,
    mask_nsigma: float = 1.0,
    mask_grow: int = 4,
    combine_sigma: float = 4.0,
    search: int = 5,
    saturation_adu: float = 15000.0,
    gain: float = 5.4,
    linearity: Sequence[float] = (),
    crosstalk: float = 0.0,
    frame_scaling: bool = True,
    fwhm_guess_arcsec: float = 0.8,
    log: logging.Logger | None = None,
) -> StackResult:
    """Reduce the frames of one sequence (rows of the ingest table, one DIT and filter).

    Parameters
    ----------
    frames : astropy.table.Table
        Ingest rows: ``path``, ``mjd``, ``offset_x``, ``offset_y``, ``dit``, ``ndit``, ``filter``, ``object``.
    dark, flat, bad : numpy.ndarray
        Master dark for this DIT, master flat for this filter, bad-pixel mask.
    sky_window : int
        Time-adjacent frames in each frame's sky.
    mask_nsigma, mask_grow : float, int
        Object mask from the first stack: threshold (stack noise) and growth (pixels).
    combine_sigma : float
        Rejection threshold of the combine.
    search : int
        Half-size (pixels) of the cross-correlation search around the header offset.
    saturation_adu : float
        Raw saturation level (ADU); the stack header's SATURATE is the level above
        the subtracted sky (ADU/s) where pixels are no longer trustworthy (90 %).
    gain : float
        Detector gain, e-/ADU (the stack header's GAIN is the effective gain of the stack).
    linearity : sequence of float
        Coefficients of the linearity correction (:mod:`astropipe.reduce.linearity`); empty: none.
    crosstalk : float
        Row cross-talk coefficient (:mod:`astropipe.reduce.crosstalk`), removed before the linearity
        correction; 0: none.
    frame_scaling : bool
        Divide each frame by its measured flux scale and weight it for point sources (True), or
        combine unscaled frames weighted by their inverse sky level (False). Where the scales cannot be
        measured (fewer than 6 usable stars in a frame) the frames are combined unscaled, with a
        warning in the log and ``FLXSCALE = F`` in the stack header.
    fwhm_guess_arcsec : float
        Starting FWHM of the per-frame seeing fits.
    log : logging.Logger, optional
        Progress messages.

    Returns
    -------
    StackResult

    Examples
    --------
    Object 11's simulated Ks sequence on a 512-pixel detector, with the night's calibrations, ingested,
    its masters built, and reduced to a stack of its 6 frames with measured flux scales:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import astropipe
    >>> from snakemake.utils import validate
    >>> from astropipe.reduce.ingest import classify_frames
    >>> from astropipe.reduce.linearity import SOFI_2007
    >>> from astropipe.reduce.masters import build_masters, load_masters
    >>> from astropipe.simulate.night import NightSimulation
    >>> repository = Path(astropipe.__file__).parents[2]  # the schema and the shipped reference tables
    >>> simulation = {"detector": {"size": 512}, "illumination_grid": 0}
    >>> sequences = {"Ks": {"dit": 20, "ndit": 3, "nexp": 6}}
    >>> config = {"imaging": {"simulation": simulation, "object": {"sequences": sequences}}}
    >>> validate(config, str(repository / "schemas" / "config.schema.yaml"), set_default=True)
    >>> night = NightSimulation(config["imaging"], repository / "resources" / "reference")
    >>> directory = Path(tempfile.mkdtemp())
    >>> paths = night.write_calibrations(directory) + night.write_sequence("object11", "Ks", directory / "ks")
    >>> frames = classify_frames(paths, {"Object 11": "object11"})
    >>> _ = build_masters(frames, directory / "masters", linearity=SOFI_2007)
    >>> science = frames[frames["type"] == "OBJECT"]
    >>> dark, flat, bad = load_masters(directory / "masters", float(science["dit"][0]), "Ks")
    >>> stack = reduce_sequence(science, dark, flat, bad, search=12, linearity=SOFI_2007)
    >>> stack.header["NCOMBINE"], stack.header["FLXSCALE"], stack.header["BUNIT"]
    (6, True, 'adu/s')
    >>> import shutil
    >>> shutil.rmtree(directory)
    """
    log = log or logging.getLogger(__name__)
    frames = frames[np.argsort(frames["mjd"])]
    if len({float(d) for d in frames["dit"]}) != 1 or len(set(frames["filter"])) != 1:
        raise ValueError(
            f"a sequence must have one DIT and one filter; got {sorted(set(frames['dit']))}, "
            f"{sorted(set(frames['filter']))}"
        )
    dit, ndit = float(frames["dit"][0]), int(frames["ndit"][0])
    calibrated = [calibrate_frame(read_raw_data(p), dark, flat, bad, linearity, crosstalk) for p in frames["path"]]
    log.info("calibrated %d frames of %s %s", len(calibrated), frames["object"][0], frames["filter"][0])
    times = np.asarray(frames["mjd"], dtype=float)
    masks = [bright_pixel_mask(f) | ~np.isfinite(f) for f in calibrated]
    levels = _sky_levels(calibrated, masks)
    skies = running_sky(calibrated, masks, times, sky_window, levels)
    first = [f - s for f, s in zip(calibrated, skies, strict=True)]
    noise = np.array([frame_level(f, m)[1] for f, m in zip(first, masks, strict=True)])
    guesses = np.column_stack([frames["offset_x"], frames["offset_y"]]).astype(float)
    guesses -= guesses[0]
    linear_limit = 0.5 * (saturation_adu - float(np.median(dark)) - float(np.max(levels)))
    reference_stars = ReferenceStars(first[0], noise[0], peak_max=linear_limit)
    offsets = _register(frames["path"], first, noise, guesses, reference_stars, search)
    log.info("offsets refined: max |refined - header| = %.3f px", float(np.max(np.abs(offsets - guesses))))
    margin = canvas_margin(offsets)
    objects = _object_mask(first, offsets, margin, 1.0 / noise**2, combine_sigma, mask_nsigma, mask_grow)
    log.info("object mask from the first stack covers %.1f%% of the canvas", 100 * objects.mean())
    shape = calibrated[0].shape
    masks2 = [m | _project_mask(objects, o, margin, shape) for m, o in zip(masks, offsets, strict=True)]
    levels2 = _sky_levels(calibrated, masks2)
    skies2 = running_sky(calibrated, masks2, times, sky_window, levels2)
    second = [f - s for f, s in zip(calibrated, skies2, strict=True)]
    noise2 = np.array([frame_level(f, m)[1] for f, m in zip(second, masks2, strict=True)])
    # photon-noise weights: in crowded fields the measured scatter is mostly unresolved stars
    sky_levels = np.array([frame_level(s, m)[0] for s, m in zip(skies2, masks2, strict=True)])
    # saturation in the units of the sky-subtracted frames, for the brightest sky of the sequence,
    # 10 % below the hard limit where the non-linearity is already severe
    usable_adu = 0.9 * (saturation_adu - float(np.median(dark)) - float(np.max(sky_levels)))
    quality = None
    if frame_scaling:
        quality = _measured_quality(
            frames, calibrated, levels2, offsets, reference_stars, fwhm_guess_arcsec, usable_adu, log
        )
    weights, scales = _weights_and_scales(quality, sky_levels, float(frames["pixel_scale"][0]), log)
    (stack, used), _ = _stack(
        [f / s for f, s in zip(second, scales, strict=True)], offsets, margin, weights, combine_sigma
    )
    exposure = used.astype(float) * dit * ndit
    image = stack / dit  # ADU per DIT -> ADU/s
    # a weighted mean of n frames has the noise of an equal-weight mean of n_eff = (sum w)^2 / sum w^2 frames
    n_effective = float(weights.sum() ** 2 / np.sum(weights**2))
    header = _stack_header(frames, margin, dit, ndit, len(first), usable_adu, gain * n_effective / len(first))
    header["SKYNOISE"] = (float(np.median(noise2)) / dit, "[adu/s] median per-frame sky noise")
    header["NEFFECT"] = (round(n_effective, 3), "effective number of frames of the weighted mean")
    header["FLXSCALE"] = (quality is not None, "frames scaled by their measured transparency")
    table = _offsets_table(frames, guesses, offsets, sky_levels, noise2, scales, weights, quality)
    return StackResult(image=image, exposure=exposure, header=header, offsets=table)


def _register(paths, first, noise, guesses, reference_stars: ReferenceStars, search: int) -> NDArray[np.float64]:
    """Step 3: every frame's offset from the first, the header's refined by cross-correlation within
    ``search`` px, then by matching the reference frame's stars."""
    reference = prepare_for_correlation(first[0], noise[0])
    offsets = [(0.0, 0.0)]
    for path, frame, frame_noise, guess in zip(paths[1:], first[1:], noise[1:], guesses[1:], strict=True):
        try:
            correlated = refine_offset(reference, prepare_for_correlation(frame, frame_noise), tuple(guess), search)
            offsets.append(refine_with_stars(reference_stars, frame, correlated))
        except RegistrationError as error:
            raise RegistrationError(f"{path}: cannot be registered on {paths[0]}: {error}") from error
    return np.array(offsets)


def _object_mask(first, offsets, margin, weights, combine_sigma, mask_nsigma, mask_grow) -> NDArray[np.bool_]:
    """Step 4: the first stack's pixels above ``mask_nsigma`` times its clipped spread, grown by ``mask_grow`` px."""
    (stack1, _), _ = _stack(first, offsets, margin, weights, combine_sigma)
    _, level, spread = sigma_clipped_stats(stack1[np.isfinite(stack1)], sigma=3.0)
    return binary_dilation(np.nan_to_num(stack1, nan=level) > level + mask_nsigma * spread, iterations=mask_grow)


def _sky_levels(frames: list[np.ndarray], masks: list[np.ndarray]) -> np.ndarray:
    """Each frame's sky level on its unmasked pixels (ADU), measured once per set of masks and used by the
    running sky, the linearity limit and the frame scales."""
    return np.array([frame_level(f, m)[0] for f, m in zip(frames, masks, strict=True)])


def _measured_quality(
    frames, calibrated, levels, offsets, reference_stars, fwhm_guess_arcsec, usable_adu, log
) -> FrameQuality | None:
    """Step 5: the frames' flux scales and seeing, or None (with a warning) where a sparse field has too
    few stars to measure them. ``levels``: each frame's sky level outside the objects."""
    scale_px = float(frames["pixel_scale"][0])
    # measured on the frames less a constant sky: the running sky of a crowded field carries other frames'
    # faint stars, which moved the scale stars' fluxes by several per cent from frame to frame
    try:
        return _frame_quality(
            reference_stars,
            [f - level for f, level in zip(calibrated, levels, strict=True)],
            offsets,
            fwhm_guess_arcsec / scale_px,
            usable_adu,
        )
    except ValueError as problem:  # a sparse field: the stack is still right, at the frames' mean transparency
        log.warning(
            "%s %s: frames combined without flux scales, weighted by 1 / sky: %s",
            frames["object"][0],
            frames["filter"][0],
            problem,
        )
        return None


def _weights_and_scales(quality: FrameQuality | None, sky_levels, scale_px: float, log):
    """Step 6's weights (point-source weights, or 1 / sky for unscaled frames; mean 1) and flux scales."""
    if quality is None:
        return (1.0 / sky_levels) / np.mean(1.0 / sky_levels), np.ones(len(sky_levels))
    weights = combine_weights(quality, sky_levels)
    log.info(
        "flux scales %s, FWHM %s arcsec, weights %s",
        np.round(quality.scale, 3),
        np.round(quality.fwhm_px * scale_px, 2),
        np.round(weights, 2),
    )
    return weights, quality.scale


def _offsets_table(frames, guesses, offsets, sky_levels, noise, scales, weights, quality) -> Table:
    """Per frame: path, header and refined offsets, sky level and noise, flux scale and weight (and the
    scale's error, the FWHM and the number of scale stars where they were measured)."""
    table = Table(
        {
            "path": frames["path"],
            "mjd": frames["mjd"],
            "header_dx": guesses[:, 0],
            "header_dy": guesses[:, 1],
            "dx": offsets[:, 0],
            "dy": offsets[:, 1],
            "sky_level": sky_levels,
            "sky_noise": noise,
            "flux_scale": scales,
            "weight": weights,
        }
    )
    if quality is not None:
        table["flux_scale_err"] = quality.scale_err
        table["fwhm_arcsec"] = quality.fwhm_px * float(frames["pixel_scale"][0])
        table["scale_stars"] = quality.n_stars
    return table


def _frame_quality(
    reference: ReferenceStars,
    frames: list[NDArray[np.float64]],
    offsets: NDArray[np.float64],
    fwhm_guess_px: float,
    saturated_adu: float,
) -> FrameQuality:
    """Flux scales and seeing from the reference frame's :data:`FLUX_SCALE_STARS` brightest unsaturated stars."""
    x, y = reference.centroids(
        reference.brightest(int(np.ceil(APERTURE_BORDER_FWHM * fwhm_guess_px)), FLUX_SCALE_STARS)
    )
    good = np.isfinite(x) & np.isfinite(y)
    return measure_frame_quality(
        frames, offsets, x[good], y[good], fwhm_guess_px=fwhm_guess_px, saturated_adu=saturated_adu
    )


def _stack_header(
    frames: Table, margin: int, dit: float, ndit: int, n: int, usable_adu: float, gain: float
) -> fits.Header:
    with open_raw_frame(frames["path"][0]) as hdul:
        raw = hdul[0].header.copy()
    wcs = WCS(raw).celestial
    wcs.wcs.crpix = wcs.wcs.crpix + margin
    header = wcs.to_header()
    for key in ("OBJECT", "INSTRUME", "TELESCOP", "DATE-OBS", "MJD-OBS"):
        if key in raw:
            header[key] = raw[key]
    header["PIXSCALE"] = (float(frames["pixel_scale"][0]), "[arcsec/pixel] ESO INS PIXSCALE")
    header["FILTER"] = (str(frames["filter"][0]), "ESO INS FILT1/FILT2 ID")
    header["BUNIT"] = "adu/s"
    header["DIT"] = (dit, "[s]")
    header["NDIT"] = ndit
    header["NCOMBINE"] = (n, "frames combined")
    header["EXPTIME"] = (dit * ndit * n, "[s] total exposure at full depth")
    header["GAIN"] = (gain * dit * ndit * n, "[e-/(adu/s)] effective, full depth")
    header["SATURATE"] = (usable_adu / dit, "[adu/s] saturation above the subtracted sky")
    header["AIRMASS"] = (float(np.mean(frames["airmass"])), "mean airmass")
    return header
