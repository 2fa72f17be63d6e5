"""The ePSF file of one stack (``psf.fits``): the final ePSF and the first pass's.

The primary HDU holds the final ePSF (the one the catalogue's magnitudes
were measured with; header ``OVERSAMP``, ``FWHMPX``): one oversampled image,
or a cube of one image per node when the PSF varies across the stack, with the
nodes' (x, y) pixel positions in the ``GRIDXY`` table (the layout photutils'
``GriddedPSFModel`` takes). The ``FIRSTPASS`` extension holds the ePSF of the
first fitting pass. Both are kept in double precision, so that
:func:`astropipe.photometry.pipeline.psf_photometry` given them replays the
catalogue run bit for bit.
"""

from __future__ import annotations

import os

import numpy as np
from astropy.io import fits
from astropy.table import Table

from astropipe.io import atomic_output
from astropipe.photometry.pipeline import PSFPasses
from astropipe.photometry.psf_grid import VaryingPSFModel
from astropipe.photometry.psf_model import PSFModel

__all__ = ["read_psf_file", "write_psf_file"]

FIRST_PASS_EXTENSION = "FIRSTPASS"
GRID_EXTENSION = "GRIDXY"


def write_psf_file(path: str | os.PathLike[str], psfs: PSFPasses, oversampling: int, fwhm_px: float) -> None:
    """Write both ePSFs of a run (atomically).

    Parameters
    ----------
    path : path-like
        Output FITS file.
    psfs : PSFPasses
        From :attr:`PhotometryResult.psfs`.
    oversampling : int
        ePSF pixels per detector pixel.
    fwhm_px : float
        Measured FWHM (detector pixels), for the header.
    """
    header = fits.Header({"OVERSAMP": int(oversampling), "FWHMPX": float(fwhm_px)})
    first = fits.ImageHDU(np.asarray(psfs.first.data, float), name=FIRST_PASS_EXTENSION)
    first.header["OVERSAMP"] = int(oversampling)
    hdus = [fits.PrimaryHDU(np.asarray(psfs.final.data, float), header=header), first]
    if isinstance(psfs.final, VaryingPSFModel):
        nodes = Table({"x": psfs.final.grid_xypos[:, 0], "y": psfs.final.grid_xypos[:, 1]})
        hdus.append(fits.BinTableHDU(nodes, name=GRID_EXTENSION))
    with atomic_output(path) as temporary:
        fits.HDUList(hdus).writeto(temporary)


def read_psf_file(path: str | os.PathLike[str]) -> PSFPasses:
    """Both ePSFs of a run, as written by :func:`write_psf_file`.

    Raises
    ------
    ValueError
        When ``OVERSAMP`` or the ``FIRSTPASS`` extension is missing (a file from
        before the extension was written: re-run the photometry of that stack),
        or a cube of ePSFs comes without its ``GRIDXY`` node table.
    """
    with fits.open(path) as hdul:
        if "OVERSAMP" not in hdul[0].header:
            raise ValueError(f"{path}: primary header has no OVERSAMP (ePSF oversampling); not an ePSF file")
        if FIRST_PASS_EXTENSION not in hdul:
            raise ValueError(
                f"{path}: no {FIRST_PASS_EXTENSION} extension (the first pass's ePSF), which the artificial-star "
                "tests need to replay the catalogue run; re-run imaging_photometry for this stack"
            )
        oversampling = int(hdul[0].header["OVERSAMP"])
        final = np.asarray(hdul[0].data, float)
        first = np.asarray(hdul[FIRST_PASS_EXTENSION].data, float)
        if final.ndim == 3:
            if GRID_EXTENSION not in hdul:
                raise ValueError(f"{path}: a cube of {len(final)} ePSFs without the {GRID_EXTENSION} node table")
            nodes = np.column_stack([hdul[GRID_EXTENSION].data["x"], hdul[GRID_EXTENSION].data["y"]])
            final_psf = VaryingPSFModel(final, nodes, oversampling)
        else:
            final_psf = PSFModel(final, oversampling)
    return PSFPasses(first=PSFModel(first, oversampling), final=final_psf)
