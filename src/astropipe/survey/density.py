"""Stellar surface density around a candidate centre: radial profile, King fit, overdensity significance.

Stars brighter than a magnitude cut are counted in rings around the
candidate and divided by each ring's usable area (pixels with at least half
the full exposure), giving Sigma(r) in stars/arcmin^2 with Poisson errors. The
profile is fitted with a King (1962) core plus a constant background,

    Sigma(r) = Sigma_bg + Sigma_0 / (1 + (r / r_c)^2),

and the overdensity inside ``inner_radius`` is compared with the background
measured in an outer ring: significance = (N - N_bg) / sqrt(N_bg + var(N_bg)).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import curve_fit

__all__ = [
    "KingFit",
    "Overdensity",
    "RadialProfile",
    "fit_king",
    "king_profile",
    "overdensity",
    "radial_profile",
    "ring_areas",
]


def ring_areas(
    usable: NDArray[np.bool_], centre: tuple[float, float], pixel_scale: float, edges_arcsec: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Usable area (arcmin^2) of each ring between consecutive ``edges_arcsec`` around ``centre`` (x, y px)."""
    ny, nx = usable.shape
    y, x = np.mgrid[0:ny, 0:nx]
    r = np.hypot(x - centre[0], y - centre[1]) * pixel_scale
    counts, _ = np.histogram(r[usable], bins=edges_arcsec)
    return counts * (pixel_scale / 60.0) ** 2


@dataclass
class RadialProfile:
    """Sigma(r) in stars/arcmin^2 in rings (radii in arcsec)."""

    inner: NDArray[np.float64]
    outer: NDArray[np.float64]
    area_arcmin2: NDArray[np.float64]
    counts: NDArray[np.float64]
    density: NDArray[np.float64]
    density_err: NDArray[np.float64]

    @property
    def radius(self) -> NDArray[np.float64]:
        """Area-weighted mid radius of each ring (arcsec)."""
        return np.sqrt(0.5 * (self.inner**2 + self.outer**2))


def radial_profile(
    radius_arcsec: NDArray[np.float64], areas: NDArray[np.float64], edges: NDArray[np.float64]
) -> RadialProfile:
    """Counts of stars at ``radius_arcsec`` in rings ``edges`` divided by the usable ``areas`` (arcmin^2)."""
    counts, _ = np.histogram(radius_arcsec, bins=edges)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(areas > 0, counts / areas, np.nan)
        error = np.where(areas > 0, np.sqrt(np.maximum(counts, 1.0)) / areas, np.nan)
    return RadialProfile(edges[:-1], edges[1:], areas, counts.astype(float), density, error)


@dataclass
class KingFit:
    """King core + background (stars/arcmin^2, r_c in arcsec); NaN when the fit fails."""

    background: float
    background_err: float
    central: float
    central_err: float
    core_radius: float
    core_radius_err: float

    def as_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


def king_profile(r: NDArray[np.float64], background: float, central: float, core: float) -> NDArray[np.float64]:
    """Surface density background + central / (1 + (r / r_c)^2) (King 1962 core, stars/arcmin^2; r, r_c in arcsec)."""
    return background + central / (1.0 + (r / core) ** 2)


def fit_king(profile: RadialProfile, max_core_arcsec: float = 60.0) -> KingFit:
    """Weighted least-squares King + background fit of a radial profile (rings with no area ignored)."""
    good = np.isfinite(profile.density) & (profile.area_arcmin2 > 0)
    r, y, e = profile.radius[good], profile.density[good], profile.density_err[good]
    background = float(np.median(y[-max(3, y.size // 3) :]))
    start = [background, max(float(y[0]) - background, 1.0), 10.0]
    try:
        p, cov = curve_fit(
            king_profile,
            r,
            y,
            p0=start,
            sigma=e,
            absolute_sigma=True,
            bounds=([0.0, 0.0, 1.0], [np.inf, np.inf, max_core_arcsec]),
            maxfev=5000,
        )
        errors = np.sqrt(np.diag(cov))
    except (RuntimeError, ValueError):
        p, errors = [np.nan] * 3, [np.nan] * 3
    return KingFit(float(p[0]), float(errors[0]), float(p[1]), float(errors[1]), float(p[2]), float(errors[2]))


@dataclass
class Overdensity:
    """Stars inside ``radius`` against the background expectation from an outer ring."""

    radius_arcsec: float
    n_observed: int
    n_expected: float
    excess: float
    significance: float

    def as_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


def overdensity(
    radius_arcsec: NDArray[np.float64],
    inner_area: float,
    radius: float,
    background_density: float,
    background_count: float,
) -> Overdensity:
    """Excess of stars inside ``radius`` over ``background_density`` x ``inner_area``.

    ``background_count`` is the number of stars the background density was
    measured from: its Poisson error enters the significance.
    """
    n = int(np.sum(np.asarray(radius_arcsec) < radius))
    expected = background_density * inner_area
    variance = expected + (expected**2 / background_count if background_count > 0 else 0.0)
    significance = (n - expected) / np.sqrt(variance) if variance > 0 else np.nan
    return Overdensity(radius, n, float(expected), float(n - expected), float(significance))
