"""The night's master calibration products, built from the ingest table.

``masters/dark_{dit}s.fits`` for every DIT, ``masters/flat_{filter}.fits``
(normalised sky response) for every filter, and ``masters/bad_pixels.fits``
(1 = bad), written into one directory so that a sequence's reduction needs
only that directory and the ingest table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.io.raw_frames import read_raw_data
from astropipe.reduce.calibration import bad_pixel_mask, master_dark, master_flat

__all__ = ["build_masters", "dark_name", "load_masters"]


def dark_name(dit: float) -> str:
    return f"dark_{float(dit):g}s.fits"


def build_masters(frames: Table, outdir: str | Path) -> list[Path]:
    """Write master darks, flats and the bad-pixel mask; return their paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    darks = {}
    for dit in sorted({float(d) for d in frames["dit"][frames["type"] == "DARK"]}):
        paths = list(frames["path"][(frames["type"] == "DARK") & np.isclose(frames["dit"], dit)])
        darks[dit] = master_dark(paths)
        written.append(outdir / dark_name(dit))
        fits.PrimaryHDU(darks[dit].astype(np.float32), header=fits.Header({"NCOMBINE": len(paths), "DIT": dit})).writeto(written[-1])
    supplied = frames["path"][frames["type"] == "BPM"]
    supplied_map = read_raw_data(supplied[0]).astype(bool) if len(supplied) else None
    bad = None
    for band in sorted({str(b) for b in frames["filter"][np.isin(frames["type"], ["OBJECT", "STD"])]}):
        flats = frames[(frames["type"] == "FLAT,LAMP") & (frames["filter"] == band)]
        illumination = frames["path"][(frames["type"] == "ILLUM") & (frames["filter"] == band)]
        flat_dit = float(flats["dit"][0])
        on = [p for p, lamp, d in zip(flats["path"], flats["lamp_on"], flats["dit"], strict=True) if lamp and d == flat_dit]
        off = [p for p, lamp, d in zip(flats["path"], flats["lamp_on"], flats["dit"], strict=True) if not lamp and d == flat_dit]
        flat = master_flat(on, off, read_raw_data(illumination[0]))
        written.append(outdir / f"flat_{band}.fits")
        fits.PrimaryHDU(flat.astype(np.float32), header=fits.Header({"FILTER": band, "NLAMPON": len(on)})).writeto(written[-1])
        reference_dark = darks[max(darks)] if darks else np.zeros_like(flat)
        band_bad = bad_pixel_mask(flat, reference_dark, supplied_map)
        bad = band_bad if bad is None else bad | band_bad
    if bad is not None:
        written.append(outdir / "bad_pixels.fits")
        fits.PrimaryHDU(bad.astype(np.uint8), header=fits.Header({"COMMENT": "1 = bad pixel"})).writeto(written[-1])
    return written


def load_masters(directory: str | Path, dit: float, band: str) -> tuple[NDArray, NDArray, NDArray[np.bool_]]:
    """(dark, flat, bad) for a sequence of this DIT and filter; a clear error if one is missing."""
    directory = Path(directory)
    paths = {"dark": directory / dark_name(dit), "flat": directory / f"flat_{band}.fits", "bad": directory / "bad_pixels.fits"}
    for kind, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(f"master {kind} {path} not found (DIT {dit} s, filter {band})")
    return (fits.getdata(paths["dark"]).astype(float), fits.getdata(paths["flat"]).astype(float),
            fits.getdata(paths["bad"]).astype(bool))  # fmt: skip
