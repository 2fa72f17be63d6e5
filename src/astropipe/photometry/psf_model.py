"""Fast evaluation of an empirical PSF and its derivatives for many stars at once.

The ePSF is an oversampled image (photutils ``EPSFBuilder``). A bicubic spline
through it is tabulated once on square stamps for a grid of sub-pixel phases
(``phases`` per pixel in x and y); a star's stamp is then the bilinear
interpolation between the four nearest phases - a few array gathers instead of
a spline evaluation per pixel (interpolation error ~1e-4 of the peak for 16
phases). The gathers take whole stamps as contiguous rows of a
:class:`PhaseTables` and weight them in one batched matrix product (four
phases, or four phases at each of four nodes for a PSF varying across the
field), a few stars at a time so that the rows stay in the cache.

The normalisation follows photutils: the PSF sampled on the detector's pixel
grid sums to 1, so a fitted amplitude is the star's flux within the PSF
footprint.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import RectBivariateSpline

__all__ = ["PSFModel", "PhaseLookup", "PhaseTables", "StampModel", "Stamps"]

#: bytes of table rows gathered per batch of stars (a few stars' stamps: they stay in the cache)
_BATCH_BYTES = 1 << 20
#: sub-boxes of a table kept as contiguous copies (the fitter uses two or three box sizes)
_CACHED_BOXES = 3


class Stamps:
    """PSF stamps of n stars on their pixel boxes.

    Attributes
    ----------
    px, py : numpy.ndarray (n, w)
        Pixel columns and rows of each star's box.
    values, grad_x, grad_y : numpy.ndarray (n, w, w)
        PSF and its derivatives with respect to the pixel offset from the star.
    """

    def __init__(self, px, py, values, grad_x=None, grad_y=None) -> None:
        self.px, self.py, self.values, self.grad_x, self.grad_y = px, py, values, grad_x, grad_y

    def flat_index(self, shape: tuple[int, int]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Raveled pixel index (n, w*w) and whether the pixel is on the image."""
        ny, nx = shape
        inside = ((self.py >= 0) & (self.py < ny))[:, :, None] & ((self.px >= 0) & (self.px < nx))[:, None, :]
        index = self.py[:, :, None] * nx + self.px[:, None, :]
        return np.where(inside, index, 0).reshape(len(self.px), -1), inside.reshape(len(self.px), -1)


class StampModel(ABC):
    """A PSF that renders stars from its :meth:`stamps` (shared by the constant and the varying ePSF)."""

    half: int

    @abstractmethod
    def stamps(self, x: NDArray, y: NDArray, half: int | None = None, gradients: bool = False) -> Stamps:
        """PSF stamps (and optionally gradients) of stars at (x, y) on boxes of +-``half`` pixels."""

    def image(self, shape: tuple[int, int], x: NDArray, y: NDArray, flux: NDArray) -> NDArray[np.float64]:
        """Image of stars rendered with this PSF (for subtraction and artificial stars)."""
        out = np.zeros(shape[0] * shape[1])
        for start in range(0, len(x), 2000):
            s = self.stamps(x[start : start + 2000], y[start : start + 2000])
            index, inside = s.flat_index(shape)
            weights = (s.values * np.asarray(flux[start : start + 2000])[:, None, None]).reshape(len(s.px), -1)
            out += np.bincount(index[inside], weights=weights[inside], minlength=out.size)
        return out.reshape(shape)


class PSFModel(StampModel):
    """Tabulated representation of an oversampled ePSF.

    Parameters
    ----------
    data : numpy.ndarray
        Oversampled PSF image, centred on its central (sub)pixel.
    oversampling : int
        ePSF pixels per detector pixel.
    phases : int
        Sub-pixel phases tabulated per pixel.
    """

    def __init__(self, data: NDArray[np.float64], oversampling: int, phases: int = 16) -> None:
        data = np.asarray(data, dtype=float)
        self.data = data
        ny, nx = data.shape
        self.oversampling = int(oversampling)
        v = (np.arange(ny) - (ny - 1) / 2.0) / self.oversampling
        u = (np.arange(nx) - (nx - 1) / 2.0) / self.oversampling
        self._spline = RectBivariateSpline(v, u, data, kx=3, ky=3)
        self.radius = float(min(u[-1], v[-1]))
        grid = np.arange(-int(self.radius), int(self.radius) + 1, dtype=float)
        gv, gu = np.meshgrid(grid, grid, indexing="ij")
        self.normalisation = 1.0 / float(self._spline.ev(gv.ravel(), gu.ravel()).sum())
        self.half = int(np.ceil(self.radius))
        self.phases = phases
        k = np.arange(-self.half, self.half + 2, dtype=float)  # box columns relative to floor(x)
        f = np.arange(phases + 1) / phases
        d = k[None, :] - f[:, None]  # (phase, k): offset of pixel from the star
        # every offset of every phase lies on one sorted axis: the spline is evaluated once on that grid
        # (separable, fast) and each phase's stamp gathered from it
        axis, where = np.unique(d, return_inverse=True)
        where = where.reshape(d.shape)
        rows = where[:, None, :, None]  # (phase y, 1, k y, 1)
        columns = where[None, :, None, :]  # (1, phase x, 1, k x)
        inside = np.abs(axis) <= self.radius
        inside = inside[rows] & inside[columns]

        def tabulate(**derivative) -> PhaseTables:
            grid = self._spline(axis, axis, grid=True, **derivative) * self.normalisation
            # float32 tables: half the memory traffic of the gathers, ~1e-7 relative precision
            return PhaseTables(np.where(inside, grid[rows, columns], 0.0).astype(np.float32)[None])

        # the spline's first axis is v (y): dx = 1 differentiates along v, dy = 1 along u (x)
        self.tables = (tabulate(), tabulate(dy=1), tabulate(dx=1))

    def __call__(self, dx: NDArray, dy: NDArray) -> NDArray[np.float64]:
        """PSF value at offsets (dx, dy) from the star centre (detector pixels); 0 outside the footprint."""
        dx, dy = np.asarray(dx, float), np.asarray(dy, float)
        inside = (np.abs(dx) <= self.radius) & (np.abs(dy) <= self.radius)
        return np.where(inside, self._spline.ev(dy, dx) * self.normalisation, 0.0)

    def gradient(self, dx: NDArray, dy: NDArray) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(dP/d dx, dP/d dy): derivatives with respect to the pixel offset from the centre."""
        dx, dy = np.asarray(dx, float), np.asarray(dy, float)
        inside = (np.abs(dx) <= self.radius) & (np.abs(dy) <= self.radius)
        gx = self._spline.ev(dy, dx, dx=0, dy=1) * self.normalisation
        gy = self._spline.ev(dy, dx, dx=1, dy=0) * self.normalisation
        return np.where(inside, gx, 0.0), np.where(inside, gy, 0.0)

    def stamps(self, x: NDArray, y: NDArray, half: int | None = None, gradients: bool = False) -> Stamps:
        """Stamps of stars at (x, y) on boxes of columns floor(x) - half ... floor(x) + half + 1.

        ``half`` (default: the whole footprint) selects a central part of the
        tabulated box, for faint stars whose far wings do not matter.
        """
        phases = PhaseLookup(x, y, self.half if half is None else min(int(half), self.half), self.half, self.phases)
        node, weight = np.zeros((phases.px.shape[0], 1), dtype=np.int64), np.ones((phases.px.shape[0], 1))
        planes = (phases.interpolate(tables, node, weight) for tables in self.tables[: 3 if gradients else 1])
        return Stamps(phases.px, phases.py, *planes)


class PhaseTables:
    """Stamps tabulated at sub-pixel phases, for one PSF or for each node of a varying one.

    Parameters
    ----------
    tables : numpy.ndarray (nodes, phases + 1, phases + 1, w, w), float32
        Stamp of every node at every phase; the central part of each stamp is a smaller box.
    """

    def __init__(self, tables: NDArray[np.float32]) -> None:
        self.tables = tables
        self._boxes: dict[tuple[int, int], NDArray[np.float32]] = {}

    def rows(self, lo: int, hi: int) -> NDArray[np.float32]:
        """The box ``lo:hi`` (both axes) of every stamp as one contiguous row per (node, phase y, phase x).

        The whole box is a view; a central part is copied once and kept (at most three sizes, the oldest dropped first).
        """
        cells = self.tables.shape[0] * self.tables.shape[1] * self.tables.shape[2]
        if (lo, hi) == (0, self.tables.shape[-1]):
            return self.tables.reshape(cells, -1)
        if (lo, hi) not in self._boxes:
            if len(self._boxes) >= _CACHED_BOXES:
                del self._boxes[next(iter(self._boxes))]
            box = np.ascontiguousarray(self.tables[:, :, :, lo:hi, lo:hi])
            self._boxes[lo, hi] = box.reshape(cells, -1)
        return self._boxes[lo, hi]


class PhaseLookup:
    """Where stars at (x, y) fall in tabulated phase stamps: their pixel boxes, phase cells and weights.

    Parameters
    ----------
    x, y : numpy.ndarray
        Star positions (pixels).
    half : int
        Half-size of the boxes wanted (columns floor(x) - half ... floor(x) + half + 1).
    table_half : int
        Half-size of the tabulated boxes.
    phases : int
        Sub-pixel phases tabulated per pixel.
    """

    def __init__(self, x: NDArray, y: NDArray, half: int, table_half: int, phases: int) -> None:
        x, y = np.asarray(x, float), np.asarray(y, float)
        x0, y0 = np.floor(x), np.floor(y)
        sx, sy = (x - x0) * phases, (y - y0) * phases
        ix, iy = np.minimum(sx.astype(int), phases - 1), np.minimum(sy.astype(int), phases - 1)
        tx, ty = (sx - ix).astype(np.float32), (sy - iy).astype(np.float32)
        self.phases = phases
        # the four phase cells around each star (y-major within a node's table) and their bilinear weights
        self.cells = np.stack([iy * (phases + 1) + ix + step for step in (0, 1, phases + 1, phases + 2)], axis=1)
        self.cell_weights = np.stack([(1 - ty) * (1 - tx), (1 - ty) * tx, ty * (1 - tx), ty * tx], axis=1)
        self.lo, self.hi = table_half - half, table_half + half + 2
        k = np.arange(-half, half + 2)
        self.px = x0.astype(np.int64)[:, None] + k[None, :]
        self.py = y0.astype(np.int64)[:, None] + k[None, :]

    def interpolate(self, tables: PhaseTables, node: NDArray[np.int64], node_weight: NDArray) -> NDArray[np.float32]:
        """Stamps (n, w, w): for each star the sum over its nodes ``node`` (n, m) with weights ``node_weight``
        (n, m) of the bilinear interpolation between the four phases around it."""
        n, width = self.px.shape
        cells_per_node = (self.phases + 1) ** 2
        cells = (node[:, :, None] * cells_per_node + self.cells[:, None, :]).reshape(n, -1)
        weights = (node_weight.astype(np.float32)[:, :, None] * self.cell_weights[:, None, :]).reshape(n, 1, -1)
        rows = tables.rows(self.lo, self.hi)
        out = np.empty((n, 1, width * width), dtype=np.float32)
        batch = max(1, _BATCH_BYTES // (cells.shape[1] * rows.shape[1] * rows.itemsize))
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            np.matmul(weights[start:stop], rows.take(cells[start:stop], axis=0), out=out[start:stop])
        return out.reshape(n, width, width)
