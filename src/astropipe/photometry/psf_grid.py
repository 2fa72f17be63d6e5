"""A PSF that varies across the image: ePSFs on a grid of nodes, interpolated bilinearly.

The scheme of photutils' ``GriddedPSFModel`` (and of the ePSF grids of
Anderson & King 2000 for WFPC2): the PSF at (x, y) is the bilinear
interpolation of the ePSFs at the four surrounding nodes of a rectangular
grid, with positions beyond the outer nodes clamped to the nearest cell, so
the model sums to 1 everywhere as every node does. The nodes' ePSFs come from
:func:`~astropipe.photometry.psf_distortion.fit_distorted_epsf` or
:func:`~astropipe.photometry.psf_polynomial.fit_quadratic_epsf`.
:class:`VaryingPSFModel` evaluates stamps with the same tabulated phases as
:class:`~astropipe.photometry.psf_model.PSFModel` (the fitter needs no change);
:func:`photutils_psf` gives the same PSF as photutils models it, for the
reference engine.
"""

from __future__ import annotations

import numpy as np
from astropy.nddata import NDData
from numpy.typing import NDArray

from astropipe.photometry.psf_model import PhaseLookup, PhaseTables, PSFModel, StampModel, Stamps

__all__ = ["VaryingPSFModel", "bilinear_weights", "node_positions", "photutils_psf"]


def node_positions(shape: tuple[int, int], nodes_per_axis: int) -> NDArray[np.float64]:
    """(x, y) of ``nodes_per_axis`` x ``nodes_per_axis`` nodes spanning an image of ``shape``, y-major."""
    ny, nx = shape
    xs, ys = np.linspace(0, nx - 1, nodes_per_axis), np.linspace(0, ny - 1, nodes_per_axis)
    return np.array([(gx, gy) for gy in ys for gx in xs])


def bilinear_weights(
    x: NDArray, y: NDArray, xgrid: NDArray, ygrid: NDArray
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Indices (n, 4) of the nodes around positions (x, y) on the rectangular grid ``xgrid`` x ``ygrid``
    (y-major node numbers) and their bilinear weights (n, 4); positions beyond the outer nodes are clamped."""
    nx = xgrid.size
    ix = np.clip(np.searchsorted(xgrid, x, side="right") - 1, 0, nx - 2)
    iy = np.clip(np.searchsorted(ygrid, y, side="right") - 1, 0, ygrid.size - 2)
    tx = np.clip((x - xgrid[ix]) / (xgrid[ix + 1] - xgrid[ix]), 0.0, 1.0)
    ty = np.clip((y - ygrid[iy]) / (ygrid[iy + 1] - ygrid[iy]), 0.0, 1.0)
    index = np.stack([iy * nx + ix, iy * nx + ix + 1, (iy + 1) * nx + ix, (iy + 1) * nx + ix + 1], axis=1)
    weight = np.stack([(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty], axis=1)
    return index, weight


class VaryingPSFModel(StampModel):
    """ePSFs on a rectangular grid of nodes, bilinearly interpolated between them.

    Parameters
    ----------
    data : numpy.ndarray (n_nodes, ny, nx)
        Oversampled ePSF of every node.
    grid_xypos : numpy.ndarray (n_nodes, 2)
        (x, y) pixel position of every node; together a rectangular grid of at least 2 x 2 nodes.
    oversampling : int
        ePSF pixels per detector pixel.
    """

    def __init__(self, data: NDArray[np.float64], grid_xypos: NDArray[np.float64], oversampling: int) -> None:
        data, grid_xypos = np.asarray(data, float), np.asarray(grid_xypos, float)
        self.xgrid, self.ygrid = np.unique(grid_xypos[:, 0]), np.unique(grid_xypos[:, 1])
        if self.xgrid.size < 2 or self.ygrid.size < 2 or self.xgrid.size * self.ygrid.size != len(grid_xypos):
            raise ValueError(f"PSF grid nodes {grid_xypos.tolist()}: expected a rectangular grid of >= 2 x 2 nodes")
        order = np.lexsort((grid_xypos[:, 0], grid_xypos[:, 1]))  # y-major, as photutils sorts them
        self.grid_xypos, self.oversampling = grid_xypos[order], int(oversampling)
        self.nodes = [PSFModel(d, oversampling) for d in data[order]]
        # each node scaled to unit sum on the detector's pixel grid, as the tabulated stamps are, so that
        # photutils (which takes the images as they are) models the same PSF
        self.data = np.array([node.data * node.normalisation for node in self.nodes])
        self.half, self.radius, self.phases = self.nodes[0].half, self.nodes[0].radius, self.nodes[0].phases
        # the nodes' phase tables in one array each (the nodes keep views of them): a star's stamp is one
        # weighted gather of its four nodes' four phases
        stacked = [np.concatenate([node.tables[k].tables for node in self.nodes]) for k in range(3)]
        self.tables = tuple(PhaseTables(table) for table in stacked)
        for number, node in enumerate(self.nodes):
            node.tables = tuple(PhaseTables(table[number : number + 1]) for table in stacked)

    def weights(self, x: NDArray, y: NDArray) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Node indices (n, 4) and bilinear weights (n, 4) of positions (x, y); clamped beyond the outer nodes."""
        return bilinear_weights(x, y, self.xgrid, self.ygrid)

    def __call__(self, dx: NDArray, dy: NDArray) -> NDArray[np.float64]:
        """The PSF at offsets (dx, dy) averaged over the nodes (a position-free value, e.g. for a first flux)."""
        return np.mean([node(dx, dy) for node in self.nodes], axis=0)

    def stamps(self, x: NDArray, y: NDArray, half: int | None = None, gradients: bool = False) -> Stamps:
        """Stamps of stars at (x, y), as :meth:`PSFModel.stamps`, interpolated between the nodes.

        The gradients are those of the interpolated PSF at fixed weights: across one star the weights
        change by ~1e-3 of a node spacing, far below what the position fit can see.
        """
        x, y = np.asarray(x, float), np.asarray(y, float)
        phases = PhaseLookup(x, y, self.half if half is None else min(int(half), self.half), self.half, self.phases)
        index, weight = self.weights(x, y)
        planes = (phases.interpolate(tables, index, weight) for tables in self.tables[: 3 if gradients else 1])
        return Stamps(phases.px, phases.py, *planes)


def photutils_psf(psf: PSFModel | VaryingPSFModel):
    """The same PSF as photutils models it: ``ImagePSF`` for one ePSF, ``GriddedPSFModel`` for a grid.

    The data are scaled to the fast engine's normalisation (unit sum over the detector pixels of the footprint),
    so that both engines give one flux for one star whatever the scale of the tabulated ePSF.
    """
    from photutils.psf import GriddedPSFModel, ImagePSF

    if isinstance(psf, VaryingPSFModel):
        meta = {"grid_xypos": psf.grid_xypos, "oversampling": psf.oversampling}
        return GriddedPSFModel(NDData(psf.data, meta=meta))
    return ImagePSF(psf.data * psf.normalisation, oversampling=psf.oversampling)
