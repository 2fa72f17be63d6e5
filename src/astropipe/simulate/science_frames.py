"""The science exposures of a simulated night: each dithered sequence rendered and written as the ESO archive
delivers it (:func:`write_sequence`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import astropy.units as u
import numpy as np

from astropipe.random_streams import random_stream
from astropipe.simulate.detector import expose
from astropipe.simulate.observation import (
    OVERHEAD_S,
    PIXEL_SCALES,
    dither_offsets,
    frame_wcs,
    pointing_after_offset,
    raw_header,
    reported_offsets,
    reported_wcs,
)
from astropipe.simulate.psf import render_field
from astropipe.simulate.scene import Scene

if TYPE_CHECKING:
    from astropipe.simulate.night import NightSimulation

__all__ = ["write_sequence"]


def write_sequence(night: NightSimulation, field: str, band: str, outdir: str | Path) -> list[Path]:
    """Write the dithered exposures of one (field, band) sequence; return their paths."""
    sequence = night.sequences()[(field, band)]
    scene = night.scene(field)
    scale = PIXEL_SCALES[sequence.mode]
    shape = night.detector.shape
    rng = random_stream(night.seed, f"dither/{field}/{band}")
    offsets = dither_offsets(rng, sequence.nexp, night.sim["jitter_box_arcsec"])
    stars = scene.stars
    reference_wcs = frame_wcs(scene.center, scale, shape)
    centre_ref = np.array(reference_wcs.world_to_pixel(scene.center))
    true_offsets = np.array(
        [
            np.array(frame_wcs(pointing_after_offset(scene.center, offset), scale, shape).world_to_pixel(scene.center))
            - centre_ref
            for offset in offsets
        ]
    )
    header_offsets = reported_offsets(
        random_stream(night.seed, f"offsets/{field}/{band}"), true_offsets, night.sim["header_offset_error_px"]
    )
    pointing_error, rotation_error = night.telescope_errors(f"pointing/{field}/{band}")
    paths = []
    for i, offset in enumerate(offsets):
        frame_rng = random_stream(night.seed, f"frame/{field}/{band}/{i}")
        hours = sequence.start_hours + i * (sequence.dit * sequence.ndit + OVERHEAD_S) / 3600.0
        airmass = night.sim["object_airmass"] + 0.05 * hours
        fwhm = night.seeing_fwhm(hours, frame_rng)
        transparency = night.transparency(frame_rng)
        wcs = frame_wcs(pointing_after_offset(scene.center, offset), scale, shape)
        x, y = wcs.all_world2pix(np.asarray(stars["ra"]), np.asarray(stars["dec"]), 0)
        rate = night.photometry.count_rate(band, np.asarray(stars["H"]), np.asarray(stars["K"]), airmass)
        image = render_field(shape, x, y, rate, night.frame_psf(fwhm, scale, f"{field}/{band}/{i}"))
        image += _nebula(night, scene, wcs, band, scale, shape)
        image *= transparency
        sky_mag = night.sky.level(band, hours, frame_rng)
        image += night.photometry.surface_rate(band, sky_mag, scale) * night.sky.pattern(shape, frame_rng)
        raw = expose(night.detector, night.maps, image, sequence.dit, sequence.ndit, frame_rng)
        header = raw_header(
            reported_wcs(wcs, pointing_error, rotation_error),
            target=night.target(field),
            frame_type="OBJECT",
            band=band,
            dit=sequence.dit,
            ndit=sequence.ndit,
            airmass=airmass,
            start=night.start + hours * u.hour,
            pixel_scale=scale,
            expno=i + 1,
            nexp=sequence.nexp,
            header_offset_px=tuple(header_offsets[i]),
            true_offset_px=tuple(np.round(true_offsets[i], 3)),
        )
        header["HIERARCH ESO TEL AMBI FWHM START"] = (round(fwhm, 4), "[arcsec] seeing (simulated truth)")
        header["HIERARCH ASTROPIPE TRANSPARENCY"] = (round(transparency, 5), "simulated truth")
        header["HIERARCH ASTROPIPE TRUE CRVAL1"] = (wcs.wcs.crval[0], "[deg] simulated truth")
        header["HIERARCH ASTROPIPE TRUE CRVAL2"] = (wcs.wcs.crval[1], "[deg] simulated truth")
        header["HIERARCH ASTROPIPE POINTING ERROR"] = (round(float(np.hypot(*pointing_error)), 4), "[arcsec] simulated")
        header["HIERARCH ASTROPIPE ROTATION ERROR"] = (round(float(rotation_error), 5), "[deg] simulated")
        paths.append(night.write_raw(outdir, raw, header))
    return paths


def _nebula(night: NightSimulation, scene: Scene, wcs, band: str, scale: float, shape: tuple[int, int]) -> np.ndarray:
    if scene.spec.nebula_peak_ks_mag_arcsec2 is None:
        return np.zeros(shape)
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    cx, cy = wcs.world_to_pixel(scene.center)
    xi, eta = -(xx - cx) * scale, (yy - cy) * scale
    mag = scene.nebula_ks_mag_arcsec2(xi, eta)
    colour = 1.0 if band == "H" else 0.0  # nebula fainter in H (hot dust, H - Ks ~ 1)
    return night.photometry.surface_rate(band, mag + colour, scale)
