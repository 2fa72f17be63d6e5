"""The night's master calibration products, built from the ingest table.

``masters/dark_{dit}s.fits`` for every DIT, ``masters/flat_{filter}.fits``
(normalised sky response) for every filter, ``masters/illumination_{filter}.fits``
where it is fitted to a standard-star grid, and ``masters/bad_pixels.fits``
(1 = bad), written into one directory so that a sequence's reduction needs
only that directory and the ingest table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.io.raw_frames import read_raw_data
from astropipe.reduce.calibration import bad_pixel_mask, calibrate_frame, dome_flat, master_dark, master_flat
from astropipe.reduce.cosmic_rays import DetectorNoise, remove_cosmic_rays_near
from astropipe.reduce.illumination import (
    IlluminationError,
    brightest_star_position,
    fit_illumination,
    measure_grid_star,
)

__all__ = ["GRID_APERTURE_FWHM", "build_masters", "dark_name", "load_masters"]

#: the illumination grid's aperture radius in FWHM (the workflow sets it to five FWHM guesses)
GRID_APERTURE_FWHM = 5.0


def dark_name(dit: float) -> str:
    return f"dark_{float(dit):g}s.fits"


def _write(path: Path, data: NDArray, header: dict) -> Path:
    fits.PrimaryHDU(data, header=fits.Header(header)).writeto(path)
    return path


def _grid_illumination(
    grid: Table,
    dark: dict[float, NDArray],
    dome_flat: NDArray,
    radius_arcsec: float,
    band: str,
    linearity: Sequence[float],
    crosstalk: float,
    detector: DetectorNoise | None,
) -> tuple[NDArray, float]:
    """Illumination correction of one filter from its standard-star grid frames (dome flat only)."""
    bad = bad_pixel_mask(dome_flat, next(iter(dark.values())))
    stars = []
    for row in grid:
        image = calibrate_frame(
            read_raw_data(row["path"]), dark[float(row["dit"])], dome_flat, bad, linearity, crosstalk
        )
        radius = radius_arcsec / float(row["pixel_scale"])
        if detector is not None:  # the star's aperture and sky annulus (to 2 radii) cleaned
            image, _ = remove_cosmic_rays_near(
                image, detector, int(row["ndit"]), brightest_star_position(image), int(np.ceil(2.0 * radius)) + 8
            )
        try:
            star = measure_grid_star(image, radius, radius / GRID_APERTURE_FWHM)
        except IlluminationError as error:
            raise IlluminationError(f"filter {band}, illumination grid frame {row['path']}: {error}") from error
        if radius <= star.x <= image.shape[1] - 1 - radius and radius <= star.y <= image.shape[0] - 1 - radius:
            stars.append(star)  # the whole aperture on the array
    try:
        x, y, flux, fwhm = (np.array([getattr(star, key) for star in stars]) for key in ("x", "y", "flux", "fwhm"))
        return fit_illumination(x, y, flux, dome_flat.shape, fwhm=fwhm)
    except IlluminationError as error:
        raise IlluminationError(f"filter {band}, illumination grid ({len(grid)} frames): {error}") from error


def build_masters(
    frames: Table,
    outdir: str | Path,
    aperture_radius_arcsec: float = 4.0,
    linearity: Sequence[float] = (),
    detector: DetectorNoise | None = None,
    crosstalk: float = 0.0,
) -> list[Path]:
    """Write master darks, flats, illumination corrections and the bad-pixel mask; return their paths.

    Dome flats and the standard-star grid are corrected for the row cross-talk with the coefficient
    ``crosstalk`` (:mod:`astropipe.reduce.crosstalk`; 0: none) and for the non-linearity with the coefficients
    ``linearity`` (:mod:`astropipe.reduce.linearity`; empty: no correction), the reset level taken from
    the master dark of the flats' DIT (else the shortest DIT's). With ``detector`` given, cosmic rays are
    removed around each grid frame's star before it is measured (:mod:`astropipe.reduce.cosmic_rays`).

    The illumination correction of a filter is the supplied ``ILLUM`` frame where there is one, else
    it is fitted to a standard star stepped over the array (``STD,ILLUM`` frames,
    :mod:`astropipe.reduce.illumination`), measured in apertures of ``aperture_radius_arcsec`` (about
    :data:`GRID_APERTURE_FWHM` FWHM, so the star's FWHM fit starts from the radius over that), with the
    seeing term of :func:`~astropipe.reduce.illumination.fit_illumination` from each frame's FWHM.

    Raises
    ------
    ValueError
        With a cross-talk correction to apply and a frame of an odd number of rows (a windowed readout: the
        correction pairs row r with r + rows/2), naming the frame and the setting.
    """
    odd = [str(path) for path, rows in zip(frames["path"], frames["rows"], strict=True) if int(rows) % 2]
    if crosstalk > 0 and odd:
        raise ValueError(
            f"{odd[0]}: {len(odd)} frame(s) of an odd number of rows; the row cross-talk correction pairs row r "
            "with r + rows/2 of a full-array readout. Set imaging.reduction.row_crosstalk: 0 for windowed frames"
        )
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    darks = {}
    for dit in sorted({float(d) for d in frames["dit"][frames["type"] == "DARK"]}):
        paths = list(frames["path"][(frames["type"] == "DARK") & np.isclose(frames["dit"], dit)])
        darks[dit] = master_dark(paths)
        written.append(
            _write(outdir / dark_name(dit), darks[dit].astype(np.float32), {"NCOMBINE": len(paths), "DIT": dit})
        )
    supplied = frames["path"][frames["type"] == "BPM"]
    supplied_map = read_raw_data(supplied[0]).astype(bool) if len(supplied) else None
    bad = None
    for band in sorted({str(b) for b in frames["filter"][np.isin(frames["type"], ["OBJECT", "STD"])]}):
        flats = frames[(frames["type"] == "FLAT,LAMP") & (frames["filter"] == band)]
        flat_dit = float(flats["dit"][0])
        on = [
            p
            for p, lamp, d in zip(flats["path"], flats["lamp_on"], flats["dit"], strict=True)
            if lamp and d == flat_dit
        ]
        off = [
            p
            for p, lamp, d in zip(flats["path"], flats["lamp_on"], flats["dit"], strict=True)
            if not lamp and d == flat_dit
        ]
        reset = darks.get(flat_dit, darks[min(darks)]) if darks else 0.0
        dome = dome_flat(on, off, reset, linearity, crosstalk)
        supplied_illumination = frames["path"][(frames["type"] == "ILLUM") & (frames["filter"] == band)]
        if len(supplied_illumination):
            illumination, source = read_raw_data(supplied_illumination[0]), str(supplied_illumination[0])
        else:
            grid = frames[(frames["type"] == "STD,ILLUM") & (frames["filter"] == band)]
            illumination, rms = _grid_illumination(
                grid, darks, master_flat(dome, 1.0), aperture_radius_arcsec, band, linearity, crosstalk, detector
            )
            source = f"standard star on {len(grid)} grid positions, fit rms {rms:.4f}"
            written.append(
                _write(
                    outdir / f"illumination_{band}.fits",
                    illumination.astype(np.float32),
                    {"FILTER": band, "SOURCE": source[:68]},
                )
            )
        flat = master_flat(dome, illumination)
        written.append(
            _write(
                outdir / f"flat_{band}.fits",
                flat.astype(np.float32),
                {"FILTER": band, "NLAMPON": len(on), "ILLUMSRC": source[-68:]},
            )
        )
        reference_dark = darks[max(darks)] if darks else np.zeros_like(flat)
        band_bad = bad_pixel_mask(flat, reference_dark, supplied_map)
        bad = band_bad if bad is None else bad | band_bad
    if bad is not None:
        written.append(_write(outdir / "bad_pixels.fits", bad.astype(np.uint8), {"COMMENT": "1 = bad pixel"}))
    return written


def load_masters(directory: str | Path, dit: float, band: str) -> tuple[NDArray, NDArray, NDArray[np.bool_]]:
    """(dark, flat, bad) for a sequence of this DIT and filter; a clear error if one is missing."""
    directory = Path(directory)
    paths = {
        "dark": directory / dark_name(dit),
        "flat": directory / f"flat_{band}.fits",
        "bad": directory / "bad_pixels.fits",
    }
    for kind, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(f"master {kind} {path} not found (DIT {dit} s, filter {band})")
    return (
        fits.getdata(paths["dark"]).astype(float),
        fits.getdata(paths["flat"]).astype(float),
        fits.getdata(paths["bad"]).astype(bool),
    )
