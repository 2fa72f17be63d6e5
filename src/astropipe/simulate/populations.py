"""Stellar populations towards the inner Galaxy, in absolute K and intrinsic H - K.

* Bulge: a red-giant branch with a steep luminosity function, the red clump
  (placed so that the b = -6 deg reference field has K0 = 12.53, (H-K)0 = 0.15,
  Dutra et al. 2003, §3.3), at the Galactic-centre distance with a depth spread.
* Disc foreground: dwarfs from the Pecaut & Mamajek (2013) mean dwarf sequence
  (``../shared/data/reference/dwarf_sequence_2mass.csv``) and disc giants,
  at 0.2-6 kpc with extinction growing with distance (the blue sequence,
  H - K ~ 0.25 observed).
* Young cluster: an upper main sequence drawn from a Kroupa IMF (slope -2.3
  above 0.5 M_sun) conditioned on the mass of its tenth most massive member.

The upper main sequence (mass -> M_K, (H-K)_0) is :mod:`astropipe.stellar.main_sequence`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from astropipe.stellar.main_sequence import UpperMainSequence

__all__ = [
    "DIFFERENTIAL_REDDENING_SHAPES",
    "Photometry",
    "bulge_stars",
    "cluster_stars",
    "differential_reddening",
    "disc_stars",
    "distance_modulus",
]

#: bulge red clump: K0 = 12.53 at the Galactic-centre distance modulus 14.52 (Dutra et al. 2003, §3.3)
CLUMP_ABSOLUTE_K = 12.53 - 14.52
CLUMP_INTRINSIC_HK = 0.15


@dataclass
class Photometry:
    """Intrinsic photometry and line-of-sight terms of a set of stars."""

    absolute_k: NDArray[np.float64]
    intrinsic_hk: NDArray[np.float64]
    distance_modulus: NDArray[np.float64]
    e_hk: NDArray[np.float64]

    def apparent(self, ak_per_ehk: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Apparent (H, K) with A_K = ak_per_ehk * E(H-K) and A_H = A_K + E(H-K)."""
        k = self.absolute_k + self.distance_modulus + ak_per_ehk * self.e_hk
        return k + self.intrinsic_hk + self.e_hk, k


def distance_modulus(distance_kpc: float | NDArray[np.float64]) -> float | NDArray[np.float64]:
    """(m - M)_0 = 5 log10(d / 10 pc)."""
    return 5.0 * np.log10(np.asarray(distance_kpc) * 100.0)


def _power_law_sample(rng: np.random.Generator, n: int, slope: float, low: float, high: float) -> NDArray[np.float64]:
    """Draw from p(m) ~ m^-slope on [low, high] by inverse transform (slope != 1)."""
    a = 1.0 - slope
    u = rng.random(n)
    return (low**a + u * (high**a - low**a)) ** (1.0 / a)


def bulge_stars(
    rng: np.random.Generator,
    n: int,
    dm: float,
    e_hk_mean: float,
    e_hk_sigma: float,
    faintest_absolute_k: float = 4.0,
    clump_fraction: float = 0.08,
    depth_sigma: float = 0.15,
) -> Photometry:
    """Bulge giants and clump stars.

    The RGB luminosity function is dN/dM_K ~ 10^(0.3 M_K) (steep, so the
    field is crowded at the faint end) from the tip M_K = -7 down to
    ``faintest_absolute_k``; (H-K)_0 reddens along the giant branch.
    """
    n_clump = rng.binomial(n, clump_fraction)
    u = rng.random(n - n_clump)
    slope = 0.3 * np.log(10.0)
    low, high = np.exp(slope * -7.0), np.exp(slope * faintest_absolute_k)
    rgb_k = np.log(low + u * (high - low)) / slope
    rgb_hk = np.clip(CLUMP_INTRINSIC_HK + 0.04 * (CLUMP_ABSOLUTE_K - rgb_k), 0.03, 0.40)
    clump_k = CLUMP_ABSOLUTE_K + 0.10 * rng.standard_normal(n_clump)
    clump_hk = np.full(n_clump, CLUMP_INTRINSIC_HK)
    absolute_k = np.concatenate([rgb_k, clump_k])
    intrinsic = np.concatenate([rgb_hk, clump_hk]) + 0.02 * rng.standard_normal(n)
    return Photometry(
        absolute_k=absolute_k,
        intrinsic_hk=intrinsic,
        distance_modulus=dm + depth_sigma * rng.standard_normal(n),
        e_hk=np.clip(e_hk_mean + e_hk_sigma * rng.standard_normal(n), 0.0, None),
    )


def disc_stars(
    rng: np.random.Generator,
    n: int,
    reference_dir: str | Path,
    e_hk_per_kpc: float = 0.05,
    giant_fraction: float = 0.3,
) -> Photometry:
    """Foreground disc: dwarfs and giants at 0.2-6 kpc, p(d) ~ d^2 exp(-d / 2.5 kpc)."""
    dwarfs = pd.read_csv(Path(reference_dir) / "dwarf_sequence_2mass.csv", comment="#")
    dwarfs = dwarfs[dwarfs["m_ks"] > 0.5]
    grid = np.linspace(0.2, 6.0, 2000)
    weights = grid**2 * np.exp(-grid / 2.5)
    distance = np.interp(rng.random(n), np.cumsum(weights) / weights.sum(), grid)
    giant = rng.random(n) < giant_fraction
    pick = rng.integers(0, len(dwarfs), n)
    absolute_k = np.where(giant, CLUMP_ABSOLUTE_K + 0.3 + 1.2 * rng.standard_normal(n), dwarfs["m_ks"].to_numpy()[pick])
    intrinsic = np.where(giant, 0.12, dwarfs["h_ks"].to_numpy()[pick]) + 0.02 * rng.standard_normal(n)
    return Photometry(
        absolute_k=absolute_k,
        intrinsic_hk=intrinsic,
        distance_modulus=distance_modulus(distance),
        e_hk=e_hk_per_kpc * distance * (1.0 + 0.2 * rng.standard_normal(n)).clip(0.2),
    )


#: shapes of the members' differential reddening about the cluster's E(H - K); all of zero mean and the rms of a
#: uniform band of the given half-width
DIFFERENTIAL_REDDENING_SHAPES = ("uniform", "gaussian", "exponential")


def differential_reddening(
    rng: np.random.Generator, n: int, halfwidth: float, shape: str = "uniform"
) -> NDArray[np.float64]:
    """Offsets of ``n`` members' E(H - K) from the cluster's (mag): mean 0, rms ``halfwidth`` / sqrt(3).

    ``uniform``: in +- ``halfwidth``, the picture of Dutra et al. (2003, §3.3: E(H - K) = 1.14 +- 0.35) that the
    mixture membership's member band also assumes; ``gaussian``: normal of that rms; ``exponential``: most
    members behind a common screen and a tail behind more dust, an exponential variate of scale rms less rms
    (skewness 2). The last two let a simulated night differ from the member model.
    """
    rms = halfwidth / np.sqrt(3.0)
    if shape == "uniform":
        return rng.uniform(-halfwidth, halfwidth, n)
    if shape == "gaussian":
        return rng.normal(0.0, rms, n)
    if shape == "exponential":
        return rng.exponential(rms, n) - rms
    raise ValueError(
        f"differential reddening shape {shape!r}: expected one of {', '.join(DIFFERENTIAL_REDDENING_SHAPES)}"
    )


def cluster_stars(
    rng: np.random.Generator,
    sequence: UpperMainSequence,
    tenth_type: str,
    distance_kpc: float,
    e_hk: float,
    differential_halfwidth: float,
    minimum_mass: float = 1.0,
    maximum_mass: float = 60.0,
    imf_slope: float = 2.3,
    differential_shape: str = "uniform",
) -> tuple[Photometry, NDArray[np.float64]]:
    """A young cluster whose tenth most massive star has the mass of ``tenth_type``.

    Nine stars are drawn from the IMF above that mass, one is placed at it,
    and the lower-mass members are drawn below it in the number the IMF
    implies (Poisson), so the tenth-brightest-star method has a known answer.
    Differential reddening (:func:`differential_reddening`) scatters each member's E(H - K) about ``e_hk``.

    Returns
    -------
    photometry, masses
    """
    m10 = sequence.mass_of(tenth_type)
    a = 1.0 - imf_slope
    ratio = (minimum_mass**a - m10**a) / (m10**a - maximum_mass**a)
    n_below = rng.poisson(10.0 * ratio)
    masses = np.concatenate(
        [
            _power_law_sample(rng, 9, imf_slope, m10, maximum_mass),
            [m10],
            _power_law_sample(rng, n_below, imf_slope, minimum_mass, m10),
        ]
    )
    absolute_k, intrinsic = sequence.photometry(masses)
    n = masses.size
    photometry = Photometry(
        absolute_k=absolute_k,
        intrinsic_hk=intrinsic,
        distance_modulus=np.full(n, float(distance_modulus(distance_kpc))),
        e_hk=e_hk + differential_reddening(rng, n, differential_halfwidth, differential_shape),
    )
    return photometry, masses
