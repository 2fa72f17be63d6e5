"""Point-spread functions of the simulated frames and vectorised rendering of many stars.

Two families are provided:

* :func:`render_stars` - one circular Moffat profile for every star,
  I(r) = F (beta - 1) / (pi alpha^2) (1 + r^2 / alpha^2)^(-beta), with
  alpha = FWHM / (2 sqrt(2^(1/beta) - 1)) (Moffat 1969). Used by unit tests
  that need a profile with a closed-form growth curve.
* :func:`render_field` - the PSF of a real SOFI exposure (:class:`FramePSF`):
  an elliptical Moffat core (the Kolmogorov index beta = 4.765 of Trujillo
  et al. 2001 for the atmosphere) plus a broad circular halo of scattered
  light, an elongation of the whole exposure (wind shake, guiding) and, on
  top of it, the optical distortion of SOFI's small-field
  objective, which broadens and radially elongates the images towards the
  upper and lower edges of the array (ESO SOFI image-quality pages). The
  pipeline assumes none of this.

Profiles are sampled at pixel centres and normalised analytically: an
elliptical Moffat with semi-axis scales a, b has the normalisation
(beta - 1) / (pi a b), so every star holds its total flux whatever its
shape. Sampling at pixel centres holds a star's flux to 0.2 % from a FWHM of
:data:`CENTRE_SAMPLED_FWHM_PX` (1 % at 1.4 px, 7 % at 1.1 px); a narrower
core (the large field's 0.29" pixels in sub-0.5" seeing) is averaged over
n x n points in each pixel, n = ceil(1.7 px / FWHM), which samples it as
finely as a 1.7-px profile. Each star is evaluated out to ``faint_radius_fwhm`` FWHM, the
brightest ``bright_fraction`` to ``bright_radius_fwhm`` (the flux beyond r of
a beta = 3 Moffat is (1 + r^2/alpha^2)^(1-beta): 0.3 % at 4 FWHM, 0.02 % at
8 FWHM). Stamps are accumulated with one ``bincount`` per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import fftconvolve

__all__ = [
    "CENTRE_SAMPLED_FWHM_PX",
    "FramePSF",
    "moffat_alpha",
    "moffat_enclosed_fraction",
    "pixel_subsamples",
    "render_field",
    "render_stars",
]


#: narrowest core FWHM (pixels) sampled at pixel centres alone; narrower cores are averaged over points in each pixel
CENTRE_SAMPLED_FWHM_PX = 1.7


def pixel_subsamples(fwhm: float) -> int:
    """Points per pixel axis at which a profile of ``fwhm`` (pixels) is averaged: 1 from
    :data:`CENTRE_SAMPLED_FWHM_PX`, else ceil(:data:`CENTRE_SAMPLED_FWHM_PX` / ``fwhm``)."""
    return 1 if fwhm >= CENTRE_SAMPLED_FWHM_PX else int(np.ceil(CENTRE_SAMPLED_FWHM_PX / fwhm))


def _pixel_averaged(profile_of, subsamples: int):
    """``profile_of(selection, dx, dy)`` averaged over ``subsamples`` x ``subsamples`` points spread evenly over
    each pixel (itself when ``subsamples`` is 1)."""
    if subsamples == 1:
        return profile_of
    steps = ((np.arange(subsamples) + 0.5) / subsamples - 0.5).astype(np.float32)

    def averaged(selection, dx, dy):
        total = sum(profile_of(selection, dx + sx, dy + sy) for sx in steps for sy in steps)
        return total / np.float32(subsamples**2)

    return averaged


def moffat_alpha(fwhm: float, beta: float) -> float:
    """Moffat core width alpha (same unit as ``fwhm``)."""
    return fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))


def moffat_enclosed_fraction(radius: float | NDArray, fwhm: float, beta: float) -> float | NDArray:
    """Fraction of a Moffat star's flux inside ``radius``: 1 - (1 + r^2/alpha^2)^(1 - beta)."""
    return 1.0 - (1.0 + (np.asarray(radius) / moffat_alpha(fwhm, beta)) ** 2) ** (1.0 - beta)


@dataclass(frozen=True)
class FramePSF:
    """The PSF of one exposure, varying across the array.

    Attributes
    ----------
    fwhm : float
        FWHM of the core at the centre of the array, pixels.
    core_beta : float
        Moffat index of the core (4.765: Kolmogorov seeing, Trujillo et al. 2001).
    halo_fraction, halo_fwhm_ratio, halo_beta : float
        Flux fraction, FWHM over the core's and Moffat index of the circular halo of scattered light.
    ellipticity, angle : float
        Elongation 1 - b/a of the whole exposure's core and its position angle (radians from the x axis).
    edge_ellipticity, edge_broadening : float
        Radial elongation 1 - b/a and fractional broadening of the core at the upper and lower edges.
    edge_start : float
        Fraction of the array's half-height from its centre where the distortion begins; it grows as
        the square of the distance beyond.
    """

    fwhm: float
    core_beta: float = 3.0
    halo_fraction: float = 0.0
    halo_fwhm_ratio: float = 3.0
    halo_beta: float = 2.5
    ellipticity: float = 0.0
    angle: float = 0.0
    edge_ellipticity: float = 0.0
    edge_broadening: float = 0.0
    edge_start: float = 0.6

    def __post_init__(self) -> None:
        if not (self.fwhm > 0 and self.core_beta > 1 and self.halo_beta > 1 and self.halo_fwhm_ratio > 0):
            raise ValueError(f"{self}: expected fwhm > 0, Moffat indices > 1 and halo_fwhm_ratio > 0")
        if not (0.0 <= self.halo_fraction < 1.0 and 0.0 <= self.edge_start < 1.0 and self.edge_broadening >= 0):
            raise ValueError(f"{self}: expected halo_fraction and edge_start in [0, 1), edge_broadening >= 0")
        if not (0.0 <= self.ellipticity < 1.0 and 0.0 <= self.edge_ellipticity < 1.0):
            raise ValueError(f"{self}: ellipticities must lie in [0, 1)")

    def distortion(self, y: NDArray, ny: int) -> NDArray[np.float64]:
        """Strength of the edge distortion in [0, 1] at rows ``y`` of an array of ``ny`` rows."""
        half = 0.5 * (ny - 1)
        distance = np.abs((np.asarray(y, float) - half) / half)
        return np.clip((distance - self.edge_start) / (1.0 - self.edge_start), 0.0, 1.0) ** 2

    def core_shape(self, y: NDArray, ny: int) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
        """(scale, ellipticity, qxx, qxy, qyy) of the core at rows ``y``: its FWHM scale factor and the
        quadratic form q = qxx dx^2 + 2 qxy dx dy + qyy dy^2 (pixels^2 / scale^2) that replaces r^2.

        The axes are scaled by 1/sqrt(1 - e) and sqrt(1 - e), so a b and the normalisation stay those
        of the circular profile; the exposure's and the distortion's ellipticities add as spin-2
        components, the distortion being radial (along y at both edges).
        """
        t = self.distortion(y, ny)
        scale = 1.0 + self.edge_broadening * t
        e1 = self.ellipticity * np.cos(2 * self.angle) - self.edge_ellipticity * t
        e2 = self.ellipticity * np.sin(2 * self.angle) * np.ones_like(t)
        e = np.minimum(np.hypot(e1, e2), 0.95)
        phi = 0.5 * np.arctan2(e2, e1)
        c, s = np.cos(phi), np.sin(phi)
        # 1 / a^2 = (1 - e), 1 / b^2 = 1 / (1 - e) in units of the circular width
        qxx = c * c * (1.0 - e) + s * s / (1.0 - e)
        qyy = s * s * (1.0 - e) + c * c / (1.0 - e)
        qxy = c * s * ((1.0 - e) - 1.0 / (1.0 - e))
        return scale, e, qxx, qxy, qyy


def _accumulate(image, shape, x, y, flux, half, profile_of, batch):
    ny, nx = shape
    offsets = np.arange(-half, half + 1, dtype=np.float32)
    for start in range(0, x.size, batch):
        chunk = slice(start, start + batch)
        xs, ys = x[chunk], y[chunk]
        xi, yi = np.rint(xs), np.rint(ys)
        dx = (xi - xs).astype(np.float32)[:, None] + offsets[None, :]
        dy = (yi - ys).astype(np.float32)[:, None] + offsets[None, :]
        profile = profile_of(chunk, dx[:, None, :], dy[:, :, None]) * flux[chunk].astype(np.float32)[:, None, None]
        px = xi.astype(np.int64)[:, None] + np.arange(-half, half + 1)[None, :]
        py = yi.astype(np.int64)[:, None] + np.arange(-half, half + 1)[None, :]
        inside = ((py >= 0) & (py < ny))[:, :, None] & ((px >= 0) & (px < nx))[:, None, :]
        index = py[:, :, None] * nx + px[:, None, :]
        image += np.bincount(index[inside], weights=profile[inside], minlength=ny * nx)


def _render(shape, x, y, flux, fwhm, profile_of, faint_radius_fwhm, bright_radius_fwhm, bright_fraction, batch):
    """Accumulate ``profile_of(selection, dx, dy)`` (per unit flux) of every star on an image of ``shape``."""
    ny, nx = shape
    image = np.zeros(ny * nx)
    x, y, flux = (np.asarray(a, dtype=float) for a in (x, y, flux))
    bright_half = int(np.ceil(bright_radius_fwhm * fwhm))
    keep = np.flatnonzero(
        (x > -bright_half) & (x < nx + bright_half) & (y > -bright_half) & (y < ny + bright_half) & (flux > 0)
    )
    if keep.size == 0:
        return image.reshape(ny, nx)
    threshold = np.quantile(flux[keep], 1.0 - bright_fraction)
    bright = flux[keep] >= threshold
    for selection, radius in ((keep[~bright], faint_radius_fwhm), (keep[bright], bright_radius_fwhm)):
        half = int(np.ceil(radius * fwhm))

        def profile_of_selected(chunk, dx, dy, selection=selection):
            return profile_of(selection[chunk], dx, dy)

        _accumulate(
            image,
            shape,
            x[selection],
            y[selection],
            flux[selection],
            half,
            profile_of_selected,
            max(1, batch * 2000 // (2 * half + 1) ** 2),
        )
    return image.reshape(ny, nx)


def render_stars(
    shape: tuple[int, int],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    fwhm: float,
    beta: float,
    faint_radius_fwhm: float = 4.0,
    bright_radius_fwhm: float = 8.0,
    bright_fraction: float = 0.02,
    batch: int = 4000,
) -> NDArray[np.float64]:
    """Image of point sources with one circular Moffat PSF.

    Parameters
    ----------
    shape : (ny, nx)
    x, y : numpy.ndarray
        Positions in 0-based pixel coordinates (pixel centres at integers).
    flux : numpy.ndarray
        Total flux of each star (any unit; the image is in that unit per pixel).
    fwhm : float
        PSF full width at half maximum, pixels.
    beta : float
        Moffat index (> 1).
    faint_radius_fwhm, bright_radius_fwhm : float
        Stamp half-widths (in FWHM) of most stars and of the brightest.
    bright_fraction : float
        Fraction of the stars (the brightest) given the wide stamp.
    batch : int
        Stars rendered at once (memory ~ batch * stamp size).

    Returns
    -------
    numpy.ndarray
        The image; flux landing outside the array is lost, as on a detector.
    """
    alpha2 = np.float32(moffat_alpha(fwhm, beta) ** 2)

    def profile_of(_, dx, dy):
        return (1.0 + (dx * dx + dy * dy) / alpha2) ** np.float32(-beta)

    # the normalisation rides on the fluxes (in double precision, as it always has)
    flux = np.asarray(flux, dtype=float) * ((beta - 1.0) / (np.pi * moffat_alpha(fwhm, beta) ** 2))
    profile = _pixel_averaged(profile_of, pixel_subsamples(fwhm))
    return _render(shape, x, y, flux, fwhm, profile, faint_radius_fwhm, bright_radius_fwhm, bright_fraction, batch)


def render_field(
    shape: tuple[int, int],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    psf: FramePSF,
    faint_radius_fwhm: float = 4.0,
    bright_radius_fwhm: float = 8.0,
    bright_fraction: float = 0.02,
    batch: int = 4000,
    halo_radius_fwhm: float = 25.0,
) -> NDArray[np.float64]:
    """Image of point sources with the field-dependent PSF ``psf``.

    The elliptical core is rendered star by star as :func:`render_stars` renders its profile (stamp
    half-widths in units of the core's largest major-axis FWHM); the halo, smooth and circular, by an
    FFT convolution of the stars' fluxes (shared bilinearly between the four nearest pixels) with the
    halo profile out to ``halo_radius_fwhm`` core FWHM (the halo's light beyond is lost: 0.2 % of it for
    the default halo).

    Parameters as :func:`render_stars`, with ``psf`` in place of ``fwhm`` and ``beta``.
    """
    x, y, flux = (np.asarray(a, float) for a in (x, y, flux))
    if psf.ellipticity == 0 and psf.edge_ellipticity == 0 and psf.edge_broadening == 0:
        # a circular core the same everywhere: the single-Moffat renderer (same numbers, less work)
        core = render_stars(
            shape,
            x,
            y,
            (1.0 - psf.halo_fraction) * flux,
            psf.fwhm,
            psf.core_beta,
            faint_radius_fwhm,
            bright_radius_fwhm,
            bright_fraction,
            batch,
        )
        return core + _halo_of(shape, x, y, flux, psf, halo_radius_fwhm)
    scale, e, qxx, qxy, qyy = psf.core_shape(y, shape[0])
    widest = psf.fwhm * float(np.max(scale / np.sqrt(1.0 - e), initial=1.0))
    beta = psf.core_beta
    alpha2 = np.float32(moffat_alpha(psf.fwhm, beta) ** 2)
    s2 = (scale**2).astype(np.float32)
    norm = ((1.0 - psf.halo_fraction) * (beta - 1.0) / np.pi / alpha2 / s2).astype(np.float32)
    qxx, qxy, qyy = (q.astype(np.float32) / s2 / alpha2 for q in (qxx, qxy, qyy))

    def profile_of(selection, dx, dy):
        q = qxx[selection, None, None] * dx * dx + 2 * qxy[selection, None, None] * dx * dy
        q += qyy[selection, None, None] * dy * dy
        return norm[selection, None, None] * (1.0 + q) ** np.float32(-beta)

    image = _render(
        shape,
        x,
        y,
        flux,
        widest,
        _pixel_averaged(profile_of, pixel_subsamples(psf.fwhm)),
        faint_radius_fwhm,
        bright_radius_fwhm,
        bright_fraction,
        batch,
    )
    return image + _halo_of(shape, x, y, flux, psf, halo_radius_fwhm)


def _halo_of(shape, x, y, flux, psf: FramePSF, halo_radius_fwhm: float) -> NDArray[np.float64] | float:
    """The halo's light (0 without a halo)."""
    if psf.halo_fraction == 0:
        return 0.0
    return _halo(shape, x, y, psf.halo_fraction * flux, psf, int(np.ceil(halo_radius_fwhm * psf.fwhm)))


def _halo(shape, x, y, flux, psf: FramePSF, radius: int) -> NDArray[np.float64]:
    """The halo light of stars of halo flux ``flux``: their bilinearly placed fluxes convolved with the
    circular halo Moffat (sampled at pixel centres, normalised analytically) out to ``radius`` pixels."""
    ny, nx = shape
    points = np.zeros((ny + 2 * radius, nx + 2 * radius))
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    for ddx, ddy, weight in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        col, row = x0.astype(int) + ddx + radius, y0.astype(int) + ddy + radius
        inside = (col >= 0) & (col < points.shape[1]) & (row >= 0) & (row < points.shape[0])
        np.add.at(points, (row[inside], col[inside]), (flux * weight)[inside])
    offsets = np.arange(-radius, radius + 1)
    r2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
    halo_alpha2 = moffat_alpha(psf.fwhm * psf.halo_fwhm_ratio, psf.halo_beta) ** 2
    kernel = (psf.halo_beta - 1.0) / (np.pi * halo_alpha2) * (1.0 + r2 / halo_alpha2) ** (-psf.halo_beta)
    return fftconvolve(points, kernel, mode="same")[radius : radius + ny, radius : radius + nx]
