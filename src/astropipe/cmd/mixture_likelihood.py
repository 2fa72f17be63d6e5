"""The likelihood of the mixture-model membership (:mod:`astropipe.cmd.mixture`, which describes the model).

Both CMD densities are normalised on a grid of the CMD domain above the completeness limits; the field's is a
Gaussian kernel density of the field region's stars. The same terms give the field region's own stars, placed
over the object disc, their membership probability (the measured field removal of a threshold).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit
from scipy.stats import gaussian_kde

__all__ = ["FIELD_REGION_RADII", "MAX_HALFWIDTH", "MixtureLikelihood"]

GRID_STEP_H, GRID_STEP_HK = 0.1, 0.01  # mag, the normalisation grid (midpoints; 0.05 in H: same fit to 1e-3)
#: largest half-width w of the members' colour band (mag): a uniform band with the rms of the paper's colour spread,
#: sqrt(3) x 0.35. A broader band reaches into the field's own colour ridge, where members and field explain the
#: same stars: on the simulated nights where the fit went there (w 0.75-0.88) it counted up to 1.9 times the true
#: members or under half of them, and kept 61-80 % of the members, against 82-92 % where it stayed narrower
MAX_HALFWIDTH = float(np.sqrt(3.0) * 0.35)
#: radii (equal-area rings' middles) at which each field-region star is placed over the object disc to measure the
#: field removal of a threshold (:meth:`astropipe.cmd.mixture.MixtureMembership.field_region_removal`)
FIELD_REGION_RADII = 20


class MixtureLikelihood:
    """The negative log-likelihood of the mixture (parameters logit eta, mu, logit(w / W), alpha, log r_c, and log nu
    with a ``field_area_ratio``) over the object-area stars above the limits, both densities normalised on a grid of
    the CMD domain above them."""

    def __init__(
        self,
        stars: NDArray,
        field: NDArray,
        limits: tuple[float, float],
        object_radius: float,
        response: tuple[Callable, Callable | None],
        field_bandwidth: float,
        *,
        blue_edge: float | None = None,
        field_area_ratio: float | None = None,
    ) -> None:
        """``stars``: rows H, H - K, radius of the object-area stars; ``field``: rows H, H - K of the field stars
        (both above the ``limits`` in H and K); ``response``: the colour errors and completeness."""
        (x_h, x_hk, r), (field_h, field_hk), (limit_h, limit_k) = stars, field, limits
        colour_errors, completeness = response
        self.x_h, self.x_hk, self.r, self.limit_h, self.object_radius = x_h, x_hk, r, limit_h, object_radius
        self.blue_edge, self.field_area_ratio, self.n_field_region = blue_edge, field_area_ratio, field_h.size
        # cell centres (the midpoint rule); the H cells end at the limit
        brightest = min(x_h.min(), field_h.min()) - 0.5
        bluest = min(x_hk.min(), field_hk.min()) - 0.5
        grid_h, grid_hk = np.meshgrid(
            limit_h - GRID_STEP_H * (np.arange(int(np.ceil((limit_h - brightest) / GRID_STEP_H))) + 0.5),
            np.arange(bluest + 0.5 * GRID_STEP_HK, max(x_hk.max(), field_hk.max()) + 0.5, GRID_STEP_HK),
            indexing="ij",
        )
        domain = grid_h - grid_hk < limit_k
        self.grid_h, self.grid_hk, self.cell = grid_h[domain], grid_hk[domain], GRID_STEP_H * GRID_STEP_HK
        field_density = gaussian_kde(np.vstack([field_h, field_hk]), bw_method=field_bandwidth)
        grid_field = field_density(np.vstack([self.grid_h, self.grid_hk])).sum() * self.cell
        self.field = field_density(np.vstack([x_h, x_hk])) / grid_field
        detected = (lambda at_h, at_k: np.ones_like(at_h)) if completeness is None else completeness
        self.grid_detected, self.star_detected = (
            detected(self.grid_h, self.grid_h - self.grid_hk),
            detected(x_h, x_h - x_hk),
        )
        self.grid_errors, self.star_errors = (
            colour_errors(self.grid_h, self.grid_h - self.grid_hk),
            colour_errors(x_h, x_h - x_hk),
        )
        # the field region's stars as if in the object area: their field density leaves each star's own kernel out
        # (a star's kernel peak, 1 / (2 pi sqrt(det C)), would raise its own density: most where stars are sparse)
        own_kernel = 1.0 / (2.0 * np.pi * np.sqrt(np.linalg.det(field_density.covariance)))
        n_region = field_h.size
        self.region_h, self.region_hk = field_h, field_hk
        self.region_field = np.maximum(n_region * field_density(np.vstack([field_h, field_hk])) - own_kernel, 0.0) / (
            (n_region - 1) * grid_field
        )
        self.region_detected = detected(field_h, field_h - field_hk)
        self.region_errors = colour_errors(field_h, field_h - field_hk)

    def _member_density(self, at_h, at_hk, at_detected, errors, mu, w, alpha):
        # the uniform band [mu - w, mu + w] convolved with the error distribution: P(y - mu - w < error <= y - mu + w) / 2w
        band = (errors(at_hk - mu + w) - errors(at_hk - mu - w)) / (2.0 * w)
        return 10.0 ** (alpha * (at_h - self.limit_h)) * band * at_detected

    @property
    def counts_field(self) -> bool:
        """Whether the field region's star count enters (the extended likelihood, with nu its sixth parameter)."""
        return self.field_area_ratio is not None

    def halfwidth(self, mu: float, logit_w: float) -> tuple[float, float]:
        """The band's half-width w and its largest value W at centre ``mu`` (mag); W <= 0: no band fits there."""
        limit = MAX_HALFWIDTH if self.blue_edge is None else min(MAX_HALFWIDTH, mu - self.blue_edge)
        return float(limit * expit(logit_w)), float(limit)

    def expected_members(self, theta) -> float:
        """n_m: eta nu with the field region's count, else eta times the object stars above the limits."""
        return float(expit(theta[0]) * self._expected_stars(theta))

    def expected_field_stars(self, theta) -> float:
        """n_f: (1 - eta) nu with the field region's count, else (1 - eta) times the object stars above the limits."""
        return float((1.0 - expit(theta[0])) * self._expected_stars(theta))

    def _expected_stars(self, theta) -> float:
        return float(np.exp(theta[5])) if self.counts_field else float(self.x_h.size)

    def terms(self, theta) -> tuple[NDArray, NDArray]:
        """Member term and total density of every star."""
        at = (self.x_h, self.x_hk, self.star_detected, self.star_errors)
        return self._terms_at(theta, at, self.r, self.field)

    def field_region_probability(self, theta) -> NDArray:
        """Membership probability of every field-region star placed at each of :data:`FIELD_REGION_RADII` radii
        spread evenly over the object disc's area (rows: radii): the field's own stars show which share of the
        object area's field stars a threshold removes. A star alone in its part of the CMD (no other field star's
        kernel reaches it) and outside the member band has no density in either term: probability 0."""
        radii = self.object_radius * np.sqrt((np.arange(FIELD_REGION_RADII) + 0.5) / FIELD_REGION_RADII)
        at = (self.region_h, self.region_hk, self.region_detected, self.region_errors)
        probability = np.zeros((radii.size, self.region_h.size))
        for row, r in zip(probability, radii, strict=True):
            member, total = self._terms_at(theta, at, np.full(self.region_h.size, r), self.region_field)
            np.divide(member, total, out=row, where=total > 0)
        return probability

    def _terms_at(self, theta, at: tuple, radius: NDArray, field: NDArray) -> tuple[NDArray, NDArray]:
        """Member term and total density of stars at (H, H - K) with their detection probability and colour-error
        distribution (``at``), distance from the centre ``radius`` and normalised field density ``field``."""
        logit_pi, mu, logit_w, alpha, log_rc = theta[:5]
        pi, w, rc = expit(logit_pi), self.halfwidth(mu, logit_w)[0], np.exp(log_rc)
        norm = (
            self._member_density(self.grid_h, self.grid_hk, self.grid_detected, self.grid_errors, mu, w, alpha).sum()
            * self.cell
        )
        m = self._member_density(*at, mu, w, alpha) / norm
        g = 1.0 / (1.0 + (radius / rc) ** 2) / (np.pi * rc**2 * np.log1p((self.object_radius / rc) ** 2))
        member = pi * m * g
        return member, member + (1.0 - pi) * field / (np.pi * self.object_radius**2)

    def __call__(self, theta) -> float:
        if self.halfwidth(theta[1], 0.0)[1] <= 0:  # the band's centre at or blueward of the colour valley
            return np.inf
        # Nelder-Mead tries extreme core radii and slopes, where the King term or the luminosity function overflows:
        # the total density is then 0, inf or NaN there, the likelihood inf, and the simplex moves away
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            _, total = self.terms(theta)
        if not np.all((total > 0) & np.isfinite(total)):
            return np.inf
        log_likelihood = np.sum(np.log(total))
        if self.counts_field:
            nu, expected_in_region = np.exp(theta[5]), self.expected_field_stars(theta) / self.field_area_ratio
            log_likelihood += self.x_h.size * np.log(nu) - nu
            log_likelihood += self.n_field_region * np.log(expected_in_region) - expected_in_region
        return -log_likelihood
