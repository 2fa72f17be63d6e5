"""Does the cluster reddening's quoted error hold? Clusters drawn from the membership model itself.

The cluster's E(H - K) is the median colour of the upper main sequence's stars weighted by their
mixture-model membership probabilities (``astropipe.distance.reddening``); its random error is quoted as
1.2533 sigma / sqrt(sum of the probabilities), the error of a median of that many members with the
weighted colour spread sigma. It does not hold the membership's own uncertainty: the probabilities come
from a fit to the same stars, whose likelihood has several maxima in the members' colour band. This
draws many object areas from the model the mixture assumes (members
spread uniformly over 1.14 +- 0.35 in H - K, a luminosity function 10^(0.3 H), a King profile of core
10 arcsec in a 43.5-arcsec disc, 0.03-mag colour errors) among field stars of a bulge-like red ridge
(H - K 0.9 +- 0.06) and a blue disc (0.3 +- 0.1), fits each, and compares the quoted error with the scatter
of E(H - K) about the injected 1.14 (the pulls' rms would be 1 for an honest error), and prints the fitted
colour band of the clusters whose E(H - K) is more than twice its error off. The fit is the pipeline's: the
members' band held redward of the colour valley, the field region's count scaled by the area ratio.

Run: python validation/reddening_errors.py [--clusters 40] [--members 150] [--field 900]
About 10 s per cluster on one core.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.special import ndtr

from astropipe.cmd.mixture import fit_mixture_membership
from astropipe.distance.reddening import cluster_reddening

INJECTED_E_HK, HALF_WIDTH, LF_SLOPE, CORE, RADIUS = 1.14, 0.35, 0.3, 10.0, 43.5
LIMIT_H, LIMIT_K, COLOUR_ERROR = 17.0, 16.5, 0.03
FIELD_REGION_STARS = 1400
BOX = {"valley_hk": 0.6, "faint_h": 16.0}  # the upper main sequence: redder than the valley, brighter than this


def field_stars(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """H and H - K of ``n`` field stars: 80 % on the bulge giants' ridge, 20 % in the blue disc sequence."""
    on_ridge = rng.random(n) < 0.8
    colour = np.where(on_ridge, rng.normal(0.9, 0.06, n), rng.normal(0.3, 0.1, n))
    return 17.5 - rng.exponential(1.5, n), colour


def members(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """H, H - K and radius (arcsec) of ``n`` members drawn from the mixture's own member model."""
    bright, faint = 10 ** (LF_SLOPE * 11.0), 10 ** (LF_SLOPE * 18.0)
    h = np.log10(bright + rng.random(n) * (faint - bright)) / LF_SLOPE
    colour = rng.uniform(INJECTED_E_HK - HALF_WIDTH, INJECTED_E_HK + HALF_WIDTH, n) + rng.normal(0, COLOUR_ERROR, n)
    radius = CORE * np.sqrt(np.expm1(rng.random(n) * np.log1p((RADIUS / CORE) ** 2)))
    return h, colour, radius


def one_cluster(seed: int, n_members: int, n_field: int) -> tuple[float, float, float, float]:
    """(E(H - K), its quoted error, the fitted colour band's centre and half-width) of one simulated object
    area (mag)."""
    rng = np.random.default_rng(seed)
    member_h, member_hk, member_r = members(rng, n_members)
    area_h, area_hk = field_stars(rng, n_field)
    h, hk = np.concatenate([member_h, area_h]), np.concatenate([member_hk, area_hk])
    radius = np.concatenate([member_r, RADIUS * np.sqrt(rng.random(n_field))])
    region_h, region_hk = field_stars(rng, FIELD_REGION_STARS)
    fit = fit_mixture_membership(
        *(h, hk, radius, region_h, region_hk, LIMIT_H, LIMIT_K, RADIUS),
        lambda at_h, at_k: lambda delta: ndtr(delta / COLOUR_ERROR),
        blue_edge=BOX["valley_hk"],
        field_area_ratio=n_field / FIELD_REGION_STARS,
    )
    box = np.isfinite(fit.probability) & (hk > BOX["valley_hk"]) & (h < BOX["faint_h"])
    weights = fit.probability[box]
    reddening = cluster_reddening(hk[box], np.full(box.sum(), COLOUR_ERROR), 0.0, weights=weights)
    return reddening.e_hk, reddening.e_hk_err, fit.colour_centre, fit.colour_halfwidth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=40)
    parser.add_argument("--members", type=int, default=150)
    parser.add_argument("--field", type=int, default=900)
    args = parser.parse_args()
    rows = []
    for seed in range(args.clusters):
        rows.append(one_cluster(seed, args.members, args.field))
        e_hk, error, centre, halfwidth = rows[-1]
        print(
            f"cluster {seed}: E(H-K) {e_hk:.3f} +- {error:.3f}; members' band {centre:.3f} +- {halfwidth:.3f}",
            flush=True,
        )
    e_hk, error, centre, halfwidth = np.array(rows).T
    pulls = (e_hk - INJECTED_E_HK) / error
    print(
        f"{len(rows)} clusters: E(H-K) {e_hk.mean():.3f} (injected {INJECTED_E_HK}), scatter {e_hk.std(ddof=1):.3f}, "
        f"mean quoted error {error.mean():.3f}; pulls rms {np.sqrt(np.mean(pulls**2)):.2f}, mean {pulls.mean():+.2f}, "
        f"within 1: {np.mean(np.abs(pulls) < 1):.0%}, beyond 2: {np.sum(np.abs(pulls) > 2)}"
    )
    for k in np.flatnonzero(np.abs(pulls) > 2):
        print(
            f"  cluster {k}: pull {pulls[k]:+.2f}, members' band fitted at {centre[k]:.3f} +- {halfwidth[k]:.3f} "
            f"(injected {INJECTED_E_HK} +- {HALF_WIDTH})"
        )


if __name__ == "__main__":
    main()
