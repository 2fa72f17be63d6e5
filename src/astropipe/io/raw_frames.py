"""Reading and writing raw frames as the ESO archive delivers them: plain, gzipped or Unix-compressed.

The archive delivers many raw frames compressed with Unix ``compress`` (``.fits.Z``). They are read
and written with the ``ncompress`` package (the C implementation of ``compress`` 4.2: about 20 times
faster than a pure-Python decoder on a 1024 x 1024 frame); gzipped frames (``.fits.gz``) with astropy.
Every reading of a raw frame in the pipeline goes through :func:`open_raw_frame`.
"""

from __future__ import annotations

import io
from pathlib import Path

import ncompress
import numpy as np
from astropy.io import fits
from numpy.typing import NDArray

__all__ = ["COMPRESSIONS", "open_raw_frame", "raw_frame_name", "read_raw_data", "write_raw_frame"]

#: compression -> file-name suffix of the written frame
COMPRESSIONS = {"none": ".fits", "gzip": ".fits.gz", "Z": ".fits.Z"}


def _is_unix_compressed(path: Path) -> bool:
    return path.name.lower().endswith(".z")


def open_raw_frame(path: str | Path) -> fits.HDUList:
    """The HDU list of a raw frame, decompressing a ``.Z`` file in memory (use as a context manager)."""
    path = Path(path)
    if _is_unix_compressed(path):
        compressed = path.read_bytes()
        try:
            data = ncompress.decompress(compressed)
        except (ValueError, OSError, RuntimeError) as error:
            raise OSError(f"{path}: not a readable Unix-compressed (.Z) file ({error})") from error
        return fits.open(io.BytesIO(data))
    return fits.open(path)


def read_raw_data(path: str | Path) -> NDArray[np.float64]:
    """The primary image of a raw frame, as float64."""
    with open_raw_frame(path) as hdul:
        return np.asarray(hdul[0].data, dtype=float)


def raw_frame_name(instrument: str, date_obs: str, compression: str = "none") -> str:
    """The archive's name of a raw frame: ``SOFI.2002-07-05T01:23:45.678.fits`` (+ ``.Z`` / ``.gz``).

    ``date_obs`` is the ISO time of the exposure start; the archive keeps milliseconds.
    """
    stamp = date_obs[:23].ljust(23, "0") if "." in date_obs else f"{date_obs[:19]}.000"
    return f"{instrument}.{stamp}{COMPRESSIONS[compression]}"


def write_raw_frame(path: str | Path, hdu: fits.PrimaryHDU, compression: str = "none") -> Path:
    """Write ``hdu`` to ``path`` (whose suffix must match ``compression``); returns the path."""
    path = Path(path)
    if not path.name.endswith(COMPRESSIONS[compression]):
        raise ValueError(
            f"{path}: a frame written with compression {compression!r} must end in {COMPRESSIONS[compression]!r}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if compression == "Z":
        buffer = io.BytesIO()
        hdu.writeto(buffer)
        path.write_bytes(ncompress.compress(buffer.getvalue()))
    else:
        hdu.writeto(path, overwrite=True)
    return path
