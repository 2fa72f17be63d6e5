"""Cluster membership from a mixture model: a reddened main sequence against the field's own CMD.

An extension of the paper's statistical decontamination (Dutra et al. 2003, §3.3 follows
Zoccali et al. 2003). Every object-area star above the completeness limits is
either a cluster member or a field star, with likelihood

    L = eta m(H, H - K) g(r) + (1 - eta) f(H, H - K) u(r),     u(r) = 1 / (pi R^2)

* m: the cluster's upper main sequence, nearly vertical in H - K (O-A dwarfs
  have (H - K)_0 = -0.05 ... +0.05), spread uniformly over [mu - w, mu + w] by
  differential reddening (Dutra et al. 2003, §3.3: E(H - K) = 1.14 +- 0.35; w is held below
  :data:`~astropipe.cmd.mixture_likelihood.MAX_HALFWIDTH`, the half-width of a uniform band with that rms) and blurred by
  the distribution of the H - K error at (H, K), with a luminosity function
  10^(alpha H) times the probability c_H(H) c_K(K) that a star is measured in
  both bands. Both come from the artificial stars
  (``astropipe.cmd.artificial_star_response``): in a crowded field the colour
  errors are several times the formal PSF-fit errors and have a long tail of
  blends, so a band blurred by the formal errors is too narrow and the
  members in the tail are counted as field;
* g: the surface density 1 / (1 + (r / r_c)^2) truncated at R (the cluster
  profile of the survey), normalised over the disc; u: a
  uniform field;
* f: the field region's own CMD, a Gaussian kernel density of its stars (its
  incompleteness is built in: it is a density of measured stars).

Both CMD densities are normalised over the region above the limits. The five
parameters (eta, mu, w, alpha, r_c) are fitted by maximum likelihood (w as W expit(v), W =
:data:`~astropipe.cmd.mixture_likelihood.MAX_HALFWIDTH`, or less with a ``blue_edge``, below); a star's
membership probability is the member term's share of L. Two pieces of what the paper's method rests on
can be given to the fit (the pipeline gives both):

* ``blue_edge``, the colour valley between the field's blue (disc) and red (bulge) sequences: the band is
  held redward of it, W = min(:data:`~astropipe.cmd.mixture_likelihood.MAX_HALFWIDTH`, mu - blue_edge), as the paper takes the cluster's
  upper main sequence (and its tenth-brightest star) from the red sequence. Without it the band could
  stretch over the blue foreground sequence, where the object area's Poisson excess over the field
  region's CMD became "members";
* ``field_area_ratio``, A_object / A_field: the object area's expected field stars n_f are then also the
  field region's count times that ratio, as in the paper's statistical subtraction. The likelihood is the
  extended one (Barlow 1990, Nucl. Instrum. Methods A 297, 496) of an on/off measurement: with
  n_m = eta nu members and n_f = (1 - eta) nu field stars expected in the object area,

      ln L = sum ln(n_m m g + n_f f u) - nu + N_field ln(n_f / ratio) - n_f / ratio,

  and nu is fitted too; at the maximum the probabilities still sum to n_m.

Unlike the survival fraction of the randomised decontamination, these probabilities are calibrated
under the model (they sum to the fitted number of members), so a threshold
has an expected completeness, sum(p, kept) / sum(p), and an expected field
removal, sum(1 - p, removed) / sum(1 - p). The threshold is chosen for a
completeness, or where the two are equal (the "balanced" operating point:
the highest rate that both reach), or for a field removal measured without the model: the field region's
own stars, each placed at :data:`~astropipe.cmd.mixture_likelihood.FIELD_REGION_RADII` radii spread evenly over the object disc's area and
given the probability it would have there (its field density leaving its own kernel out), lose to a
threshold the share of the object area's field stars that it removes where the field is uniform
(:meth:`MixtureMembership.field_region_removal`). The model's expected removal agrees with it on simulated
nights; its expected completeness does not (it rests on the members' model; ``validation/
mixture_operating_point.py``), which is why the pipeline's default sets the removal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, logit

from astropipe.cmd.mixture_likelihood import MAX_HALFWIDTH, MixtureLikelihood
from astropipe.derivatives import hessian

__all__ = ["MixtureMembership", "fit_mixture_membership"]

START_COLOUR_QUANTILES = (0.5, 0.75, 0.9)  # of the object stars' H - K, the starting mu
START_HALFWIDTHS = (0.15, 0.3, 0.5)  # mag, the starting w
#: a fitted half-width above this share of :data:`~astropipe.cmd.mixture_likelihood.MAX_HALFWIDTH` is at the bound: the likelihood still rises towards
#: broader bands, so the data do not identify the members' colours (see ``MixtureMembership.colour_band_at_bound``)
AT_BOUND = 0.999
#: step of the Hessian's central differences in every parameter: the colour-error table is interpolated linearly
#: between 0.01-mag steps, so the likelihood has kinks that far apart in mu and w, and differences over 1e-3 can
#: straddle one (a negative "curvature" at a maximum); over 0.02 the errors agree with 0.01 and 0.03 to 1 %
HESSIAN_STEP = 0.02


@dataclass
class MixtureMembership:
    """Fitted mixture and the membership probability of every object star.

    Attributes
    ----------
    probability : numpy.ndarray
        Posterior membership of each object star; NaN below the completeness limits.
    n_members : float
        Fitted number of members above the limits (eta x the number of stars).
    colour_centre, colour_halfwidth : float
        mu and w of the members' H - K (mag).
    lf_slope : float
        alpha of the members' luminosity function 10^(alpha H) (per mag).
    core_radius : float
        r_c of the members' surface density (arcsec).
    log_likelihood : float
        At the maximum.
    n_members_err : float
        Standard error of ``n_members`` from the inverse Hessian of the log-likelihood (all parameters
        free; the field's Poisson noise in the object area is in it); NaN where the Hessian is not
        positive definite.
    colour_halfwidth_limit : float
        The largest half-width the band could take at its fitted centre (mag): :data:`~astropipe.cmd.mixture_likelihood.MAX_HALFWIDTH`, or less
        where the band's blue edge reaches the colour valley.
    n_field : float
        Fitted number of field stars in the object area above the limits, (1 - eta) nu; with the field region's
        count it is the on/off estimate ratio (sum(1 - p) + N_field) / (1 + ratio).
    field_region_probability : numpy.ndarray or None
        Membership probability of each field-region star above the limits placed at each of
        :data:`~astropipe.cmd.mixture_likelihood.FIELD_REGION_RADII` radii over the object disc (shape radii x stars), for
        :meth:`field_region_removal`; None when not computed.
    """

    probability: NDArray[np.float64]
    n_members: float
    colour_centre: float
    colour_halfwidth: float
    lf_slope: float
    core_radius: float
    log_likelihood: float
    n_members_err: float = float("nan")
    colour_halfwidth_limit: float = MAX_HALFWIDTH
    n_field: float = float("nan")
    field_region_probability: NDArray[np.float64] | None = None

    @property
    def colour_band_at_bound(self) -> bool:
        """Whether the members' colour band went to :data:`~astropipe.cmd.mixture_likelihood.MAX_HALFWIDTH`: the likelihood wanted a broader band.

        The member term then spans the field's own colour ridge and explains its Poisson fluctuations as
        members: on the simulated Object 11 nights where it happened (4 of 8, before the band was held redward
        of the colour valley and the field region's count entered), the band's centre lay about 0.4 mag blue of
        the members' colours, up to 4.5 times the true members were counted, and the cluster reddening weighted
        by these probabilities came out 0.02-0.21 mag low.
        """
        return self.colour_halfwidth >= AT_BOUND * MAX_HALFWIDTH

    @property
    def colour_band_at_valley(self) -> bool:
        """Whether the band's blue edge stopped at the colour valley (``blue_edge``): the likelihood wanted it bluer.

        Members scattered blueward by the colour errors are still in the band's blurred edge; what is held back
        is a band reaching over the field's blue sequence.
        """
        return (
            self.colour_halfwidth_limit < MAX_HALFWIDTH
            and self.colour_halfwidth >= AT_BOUND * self.colour_halfwidth_limit
        )

    def threshold_for_completeness(self, completeness: float) -> float:
        """Lowest probability to keep so that the kept stars hold ``completeness`` of the summed probability."""
        p = np.sort(self.probability[np.isfinite(self.probability)])[::-1]
        cumulative = np.cumsum(p) / p.sum()
        return float(p[min(np.searchsorted(cumulative, completeness), p.size - 1)])

    def expected_rates(self, threshold: float) -> tuple[float, float]:
        """Expected completeness and field removal when the stars with p >= ``threshold`` are kept.

        Returns
        -------
        (float, float)
            sum(p, kept) / sum(p): the share of the members kept, and
            sum(1 - p, removed) / sum(1 - p): the share of the field stars
            removed, both under the fitted model.
        """
        p = self.probability[np.isfinite(self.probability)]
        kept = p >= threshold
        return float(p[kept].sum() / p.sum()), float((1 - p[~kept]).sum() / (1 - p).sum())

    def threshold_balanced(self) -> float:
        """The threshold where the expected completeness and field removal are equal (their minimum is largest)."""
        p = np.sort(self.probability[np.isfinite(self.probability)])[::-1]
        completeness = np.cumsum(p) / p.sum()  # keeping the first j + 1 stars
        removal = 1.0 - np.cumsum(1 - p) / (1 - p).sum()
        return float(p[np.argmax(np.minimum(completeness, removal))])

    def field_region_removal(self, threshold: float) -> float:
        """Share of the field stars removed when the stars with p >= ``threshold`` are kept, measured on the field
        region's own stars (``field_region_probability``) rather than predicted by the model.

        Raises
        ------
        ValueError
            When the fit was not given the field region's probabilities.
        """
        return float(np.mean(self._field_region_probability() < threshold))

    def threshold_for_field_removal(self, removal: float) -> float:
        """Lowest threshold at which the field region's stars, placed over the object area, lose ``removal`` of
        their number (:meth:`field_region_removal` >= ``removal``)."""
        if not 0.0 < removal <= 1.0:
            raise ValueError(f"mixture field removal = {removal}; expected a share in (0, 1]")
        ordered = np.sort(self._field_region_probability().ravel())
        needed = int(np.ceil(removal * ordered.size - 1e-9))  # stars that must fall below the threshold
        return float(ordered[needed]) if needed < ordered.size else float(np.nextafter(ordered[-1], np.inf))

    def _field_region_probability(self) -> NDArray[np.float64]:
        if self.field_region_probability is None:
            raise ValueError("this mixture fit has no field-region probabilities (fit_mixture_membership gives them)")
        return self.field_region_probability

    def as_dict(self) -> dict[str, float | bool]:
        """JSON-ready parameters (mag, per mag, arcsec)."""
        return {
            "n_members": self.n_members,
            "n_members_err": self.n_members_err,
            "n_field": self.n_field,
            "colour_centre_mag": self.colour_centre,
            "colour_halfwidth_mag": self.colour_halfwidth,
            "colour_halfwidth_limit_mag": self.colour_halfwidth_limit,
            "colour_halfwidth_at_bound": self.colour_band_at_bound,
            "colour_band_blue_edge_at_valley": self.colour_band_at_valley,
            "lf_slope_per_mag": self.lf_slope,
            "core_radius_arcsec": self.core_radius,
            "log_likelihood": self.log_likelihood,
        }


def fit_mixture_membership(
    h: NDArray[np.float64],
    hk: NDArray[np.float64],
    radius: NDArray[np.float64],
    field_h: NDArray[np.float64],
    field_hk: NDArray[np.float64],
    limit_h: float,
    limit_k: float,
    object_radius: float,
    colour_errors: Callable[
        [NDArray[np.float64], NDArray[np.float64]], Callable[[NDArray[np.float64]], NDArray[np.float64]]
    ],
    *,
    completeness: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]] | None = None,
    field_bandwidth: float = 0.15,
    blue_edge: float | None = None,
    field_area_ratio: float | None = None,
) -> MixtureMembership:
    """Fit the member/field mixture to the object area and give each star its membership probability.

    Parameters
    ----------
    h, hk, radius : numpy.ndarray
        Object-area stars: H, H - K (mag) and distance from the centre (arcsec).
    field_h, field_hk : numpy.ndarray
        Field-region stars (mag).
    limit_h, limit_k : float
        Completeness limits (mag); only stars brighter in both bands enter.
    object_radius : float
        R, the object area's radius (arcsec).
    colour_errors : callable
        (H, K) -> F, where F(delta) is the probability that stars at (H, K) are measured with an H - K error
        <= delta (mag); e.g. ``ColourErrorDistribution.at``.
    completeness : callable, optional
        c(H, K), the fraction of stars measured in both bands; the members' density is multiplied by it.
        None: complete down to the limits.
    field_bandwidth : float
        Kernel size of the field CMD density (scipy ``bw_method`` factor).
    blue_edge : float, optional
        H - K (mag) redward of which the members' band is held (the colour valley between the field's blue
        and red sequences). None: only the half-width bound.
    field_area_ratio : float, optional
        A_object / A_field of the usable areas: the field region's star count then fixes the object area's
        expected field stars too (the extended likelihood of the module). None: only the field's CMD shape.

    Returns
    -------
    MixtureMembership

    Raises
    ------
    ValueError
        With fewer than 20 object or field stars above the limits, when an object-area star lies where
        neither the field nor any member band has density (the likelihood is zero: the star is named), or
        when ``blue_edge`` leaves no room for a band redward of it below the reddest object star, or
        ``field_area_ratio`` is not positive.
    """
    above = (h < limit_h) & (h - hk < limit_k)
    field_above = (field_h < limit_h) & (field_h - field_hk < limit_k)
    if above.sum() < 20 or field_above.sum() < 20:
        raise ValueError(
            f"mixture membership needs >= 20 object and field stars above the completeness limits; got "
            f"{int(above.sum())} and {int(field_above.sum())}"
        )
    if field_area_ratio is not None and not field_area_ratio > 0:
        raise ValueError(f"mixture membership: field_area_ratio = {field_area_ratio}; expected A_object / A_field > 0")
    if blue_edge is not None and not blue_edge < hk[above].max():
        raise ValueError(
            f"mixture membership: the colour valley (blue_edge) H - K = {blue_edge:.3f} is redder than every object-area "
            f"star above the limits (reddest {hk[above].max():.3f}): no member band fits redward of it"
        )
    likelihood = MixtureLikelihood(
        np.vstack([h, hk, radius])[:, above],
        np.vstack([field_h, field_hk])[:, field_above],
        (limit_h, limit_k),
        object_radius,
        (colour_errors, completeness),
        field_bandwidth,
        blue_edge=blue_edge,
        field_area_ratio=field_area_ratio,
    )
    best = _best_of_several_starts(likelihood, object_radius)
    member, total = likelihood.terms(best.x)
    probability = np.full(h.size, np.nan)
    probability[above] = member / total
    halfwidth, halfwidth_limit = likelihood.halfwidth(best.x[1], best.x[2])
    return MixtureMembership(
        probability=probability,
        n_members=likelihood.expected_members(best.x),
        colour_centre=float(best.x[1]),
        colour_halfwidth=halfwidth,
        lf_slope=float(best.x[3]),
        core_radius=float(np.exp(best.x[4])),
        log_likelihood=float(-best.fun),
        n_members_err=_member_count_error(likelihood, best.x),
        colour_halfwidth_limit=halfwidth_limit,
        n_field=likelihood.expected_field_stars(best.x),
        field_region_probability=likelihood.field_region_probability(best.x),
    )


def _best_of_several_starts(likelihood: MixtureLikelihood, object_radius: float):
    """The likelihood has several maxima in (mu, w) (a narrow band on part of the field's red ridge, a broad one
    under the cluster): Nelder-Mead from a grid of the object stars' colour quantiles x band half-widths.
    Raises ValueError, naming the stars, when the likelihood is zero at every start (Nelder-Mead then ends
    near a start, which used to be taken for a fit)."""
    starts = []
    for q in START_COLOUR_QUANTILES:
        mu = float(np.quantile(likelihood.x_hk, q))
        if likelihood.blue_edge is not None and mu <= likelihood.blue_edge:  # a band needs its centre redward of it
            mu = 0.5 * (likelihood.blue_edge + likelihood.x_hk.max())
        limit = likelihood.halfwidth(mu, 0.0)[1]
        for w in START_HALFWIDTHS:
            start = [-2.0, mu, logit(min(w, 0.9 * limit) / limit), 0.3, np.log(object_radius / 4.0)]
            starts.append(start + ([np.log(likelihood.x_h.size)] if likelihood.counts_field else []))
    if not any(np.isfinite(likelihood(start)) for start in starts):
        impossible = np.flatnonzero(~(likelihood.terms(starts[0])[1] > 0))
        where = ", ".join(f"({likelihood.x_h[i]:.2f}, {likelihood.x_hk[i]:+.2f})" for i in impossible[:5])
        raise ValueError(
            f"mixture membership: {impossible.size} object-area star(s) above the completeness limits lie where "
            f"neither the field's CMD nor any member band has density, at (H, H - K) = {where}: the likelihood is "
            "zero at every start (a mismatched H/Ks pair?)"
        )
    options = {"maxiter": 4000, "xatol": 1e-5, "fatol": 1e-6}
    fits = [minimize(likelihood, s, method="Nelder-Mead", options=options) for s in starts]
    return min(fits, key=lambda fit: fit.fun)


def _member_count_error(likelihood: MixtureLikelihood, best: NDArray[np.float64]) -> float:
    """Standard error of n_m from the inverse Hessian (NaN where it is not positive definite)."""
    covariance = _inverse_if_positive_definite(_member_count_hessian(likelihood, best))
    if covariance is None:
        return float("nan")
    n_members, eta = likelihood.expected_members(best), float(expit(best[0]))
    # n_m = eta nu: d n_m / d logit(eta) = n_m (1 - eta), d n_m / d log(nu) = n_m (nu is the last free parameter)
    gradient = np.zeros(covariance.shape[0])
    gradient[0] = n_members * (1.0 - eta)
    if likelihood.counts_field:
        gradient[-1] = n_members
    return float(np.sqrt(gradient @ covariance @ gradient))


def _member_count_hessian(likelihood: MixtureLikelihood, best: NDArray[np.float64]) -> NDArray[np.float64]:
    """Hessian of the negative log-likelihood at the fit (first row and column: logit eta; last: log nu when the
    field region's count enters). Where the band's half-width went to its largest value (within 0.1 %), the
    likelihood no longer turns over in logit(w / W) and w is held at the bound: the Hessian is then that of the
    other parameters."""
    free = np.flatnonzero(np.arange(best.size) != 2) if expit(best[2]) >= AT_BOUND else np.arange(best.size)

    def with_free(values: NDArray[np.float64]) -> float:
        theta = best.copy()
        theta[free] = values
        return likelihood(theta)

    return hessian(with_free, best[free], step=HESSIAN_STEP)


def _inverse_if_positive_definite(matrix: NDArray[np.float64]) -> NDArray[np.float64] | None:
    if not np.all(np.isfinite(matrix)) or np.any(np.linalg.eigvalsh(matrix) <= 0):
        return None
    return np.linalg.inv(matrix)
