"""The calibration and standard-star exposures of a simulated night: darks, lamp-on/off dome flats, the
Persson standards at every airmass and the illumination grid (:func:`write_calibrations`,
:func:`write_standards`)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time

from astropipe.calibrate.persson_catalogue import read_persson_standards
from astropipe.random_streams import random_stream
from astropipe.simulate.detector import expose
from astropipe.simulate.observation import (
    ILLUMINATION_TEMPLATE,
    OVERHEAD_S,
    PIXEL_SCALES,
    dither_offsets,
    frame_wcs,
    pointing_after_offset,
    raw_header,
    reported_wcs,
)
from astropipe.simulate.psf import render_field

if TYPE_CHECKING:
    from astropipe.simulate.night import NightSimulation

__all__ = ["GRID_NDIT", "write_calibrations", "write_standards"]

#: integrations averaged at each position of the illumination grid
GRID_NDIT = 10


def _write_product(path: Path, data: np.ndarray, header: fits.Header) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(data=data, header=header).writeto(path, overwrite=True)


def _calibration_header(wcs, frame_type: str, band: str | None, dit: float, start: Time, expno: int, nexp: int):
    """The raw header of a dark (``DARK``) or a dome flat (``FLAT,LAMP``), taken in the small field at airmass 1."""
    target = "DARK" if frame_type == "DARK" else "FLAT"
    return raw_header(
        wcs,
        target=target,
        frame_type=frame_type,
        band=band,
        dit=dit,
        ndit=1,
        airmass=1.0,
        start=start,
        pixel_scale=PIXEL_SCALES["small"],
        expno=expno,
        nexp=nexp,
    )


def write_calibrations(night: NightSimulation, outdir: str | Path) -> list[Path]:
    """Darks for every DIT used and lamp-on/off dome flats, as the archive delivers them (the pipeline
    finds the bad pixels in them); the illumination corrections as product files only when
    ``illumination_grid`` is 0 (else the standard-star grid of :func:`write_standards` measures them)."""
    cal = night.sim["calibrations"]
    outdir = Path(outdir)
    shape = night.detector.shape
    wcs = frame_wcs(night.start_pointing(), PIXEL_SCALES["small"], shape)
    paths: list[Path] = []
    dits = sorted({s.dit for s in night.sequences().values()} | {night.config["standards"]["dit"], cal["flat_dit"]})
    clock = night.start - 6.0 * u.hour  # afternoon calibrations

    def stamp(seconds: float) -> Time:
        nonlocal clock
        clock = clock + (seconds + OVERHEAD_S) * u.s
        return clock

    for dit in dits:
        for i in range(cal["darks_per_dit"]):
            rng = random_stream(night.seed, f"dark/{dit}/{i}")
            raw = expose(night.detector, night.maps, np.zeros(shape), dit, 1, rng)
            header = _calibration_header(wcs, "DARK", None, dit, stamp(dit), i + 1, cal["darks_per_dit"])
            paths.append(night.write_raw(outdir, raw, header))
    for band in night.bands():
        thermal = night.photometry.surface_rate(band, night.sim["sky_mag_arcsec2"][band] + 2.0, PIXEL_SCALES["small"])
        for state in ("on", "off"):
            for i in range(cal["flats_per_state"]):
                rng = random_stream(night.seed, f"flat/{band}/{state}/{i}")
                lamp = cal["flat_lamp_rate"] if state == "on" else 0.0
                light = np.full(shape, lamp + thermal)
                raw = expose(night.detector, night.maps, light, cal["flat_dit"], 1, rng, lamp_pattern=True)
                start = stamp(cal["flat_dit"])
                header = _calibration_header(
                    wcs, "FLAT,LAMP", band, cal["flat_dit"], start, i + 1, cal["flats_per_state"]
                )
                paths.append(night.write_raw(outdir, raw, header))
        if night.sim["illumination_grid"] == 0:
            paths.append(_write_illumination_correction(night, outdir, band))
    return paths


def _write_illumination_correction(night: NightSimulation, outdir: Path, band: str) -> Path:
    """The illumination correction as a product file (what turns a normalised dome flat into the sky response)."""
    illum = night.maps.illumination / night.maps.dome_pattern
    header = fits.Header({"OBJECT": "ILLUMINATION", "INSTRUME": "SOFI"})
    header["HIERARCH ESO DPR TYPE"] = "ILLUM"
    header["HIERARCH ESO INS FILT1 ID"] = band
    path = outdir / f"illumination_{band}.fits"
    _write_product(path, (illum / illum.mean()).astype(np.float32), header)
    return path


def write_standards(night: NightSimulation, outdir: str | Path) -> list[Path]:
    """Persson standards, each at every configured airmass, NEXP dithered short exposures per band;
    the headers point off by the sequence's pointing error, as the science headers do."""
    std = night.config["standards"]
    catalogue = read_persson_standards(night.reference_dir / "persson1998_nir_standards.txt")
    shape, scale = night.detector.shape, PIXEL_SCALES[night.config["object"]["mode"]]
    paths: list[Path] = []
    for number in std["stars"]:
        rows = catalogue[catalogue["number"] == number]
        if len(rows) == 0:
            raise ValueError(f"standard {number} is not in {night.reference_dir / 'persson1998_nir_standards.txt'}")
        star = rows[0]
        centre = SkyCoord(star["ra"], star["dec"], unit=(u.hourangle, u.deg))
        for j, airmass in enumerate(std["airmasses"]):
            order = itertools.count(std["stars"].index(number) * len(night.bands()) * std["nexp"])
            for band in night.bands():
                rng = random_stream(night.seed, f"standard/{number}/{j}/{band}")
                offsets = dither_offsets(rng, std["nexp"], night.sim["jitter_box_arcsec"])
                field_h = rng.uniform(14.0, 18.0, 15)
                field_xy = rng.uniform(-0.45, 0.45, (15, 2)) * shape[0] * scale
                pointing_error, rotation_error = night.telescope_errors(f"pointing/standard/{number}/{j}/{band}")
                for i, offset in enumerate(offsets):
                    frame_rng = random_stream(night.seed, f"standard/{number}/{j}/{band}/{i}")
                    wcs = frame_wcs(pointing_after_offset(centre, offset), scale, shape)
                    x0, y0 = wcs.world_to_pixel(centre)
                    x = np.concatenate([[x0], x0 - field_xy[:, 0] / scale])
                    y = np.concatenate([[y0], y0 + field_xy[:, 1] / scale])
                    h = np.concatenate([[star["H"]], field_h])
                    k = np.concatenate([[star["K"]], field_h - 0.2])
                    rate = night.photometry.count_rate(band, h, k, airmass)
                    exposure = (std["dit"] * std["ndit"] + OVERHEAD_S) * u.s
                    taken = next(order) * exposure
                    fwhm = night.seeing_fwhm(0.2 + 0.1 * j + taken.to_value(u.hour), frame_rng)
                    transparency = night.transparency(frame_rng)
                    rate = rate * transparency
                    psf = night.frame_psf(fwhm, scale, f"standard/{number}/{j}/{band}/{i}")
                    image = render_field(shape, x, y, rate, psf)
                    sky = night.photometry.surface_rate(band, night.sky.level(band, 0.2 + 0.1 * j, frame_rng), scale)
                    raw = expose(night.detector, night.maps, image + sky, std["dit"], std["ndit"], frame_rng)
                    header = raw_header(
                        reported_wcs(wcs, pointing_error, rotation_error),
                        target=str(star["name"]),
                        frame_type="STD",
                        band=band,
                        dit=std["dit"],
                        ndit=std["ndit"],
                        airmass=airmass,
                        start=night.start + (0.2 + 0.1 * j) * u.hour + taken,
                        pixel_scale=scale,
                        expno=i + 1,
                        nexp=std["nexp"],
                    )
                    header["HIERARCH ASTROPIPE TRANSPARENCY"] = (round(transparency, 5), "simulated truth")
                    paths.append(night.write_raw(outdir, raw, header))
    return paths + _write_illumination_grid(night, outdir, catalogue)


def _write_illumination_grid(night: NightSimulation, outdir: str | Path, catalogue: Table) -> list[Path]:
    """The first standard stepped over an n x n grid across the array in every band (the
    illumination template, NDIT = 10 at the standards' DIT), at the first airmass, an hour before
    the science."""
    n, std = night.sim["illumination_grid"], night.config["standards"]
    if n == 0:
        return []
    star = catalogue[catalogue["number"] == std["stars"][0]][0]
    centre = SkyCoord(star["ra"], star["dec"], unit=(u.hourangle, u.deg))
    shape, scale = night.detector.shape, PIXEL_SCALES[night.config["object"]["mode"]]
    steps = np.linspace(-0.4, 0.4, n) * shape[0] * scale
    paths: list[Path] = []
    for b, band in enumerate(night.bands()):
        for i, (east, north) in enumerate((e, nn) for nn in steps for e in steps):
            rng = random_stream(night.seed, f"illumination/{band}/{i}")
            wcs = frame_wcs(pointing_after_offset(centre, np.array([-east, -north])), scale, shape)
            x, y = wcs.world_to_pixel(centre)
            rate = night.photometry.count_rate(band, np.array([star["H"]]), np.array([star["K"]]), std["airmasses"][0])
            hours = -1.0 + (b * n * n + i) * (std["dit"] * GRID_NDIT + OVERHEAD_S) / 3600.0
            psf = night.frame_psf(night.seeing_fwhm(hours, rng), scale, f"illumination/{band}/{i}")
            image = render_field(shape, np.array([x]), np.array([y]), rate, psf)
            sky = night.photometry.surface_rate(band, night.sky.level(band, 0.05, rng), scale)
            raw = expose(night.detector, night.maps, image + sky, std["dit"], GRID_NDIT, rng)
            start = night.start + hours * u.hour
            header = raw_header(
                wcs,
                target=str(star["name"]),
                frame_type="STD",
                band=band,
                dit=std["dit"],
                ndit=GRID_NDIT,
                airmass=std["airmasses"][0],
                start=start,
                pixel_scale=scale,
                expno=i + 1,
                nexp=n * n,
                template=ILLUMINATION_TEMPLATE,
            )
            paths.append(night.write_raw(outdir, raw, header))
    return paths
