"""Stellar populations towards the inner Galaxy, in absolute K and intrinsic H - K.

* Bulge: a red-giant branch with a steep luminosity function, the red clump
  (placed so that the b = -6 deg reference field has K0 = 12.53, (H-K)0 = 0.15,
  seed 000 §3.3), at the Galactic-centre distance with a depth spread.
* Disc foreground: dwarfs from the Pecaut & Mamajek (2013) mean dwarf sequence
  (``../shared/data/reference/dwarf_sequence_2mass.csv``) and disc giants,
  at 0.2-6 kpc with extinction growing with distance (the blue sequence,
  H - K ~ 0.25 observed).
* Young cluster: an upper main sequence drawn from a Kroupa IMF (slope -2.3
  above 0.5 M_sun) conditioned on the mass of its tenth most massive member.

Calibration of the upper main sequence (documented choice): O5V and B0V from
Cotera et al. (2000) as quoted by seed 000 (``cotera2000_quoted.csv``), so that
the paper's tenth-brightest-star method is self-consistent; B0.5V and later
from the Pecaut & Mamajek dwarf sequence; masses approximate, after Pecaut &
Mamajek (2013). The two calibrations differ by ~0.4 mag at B0V, which is why
O9V-B0V of the Mamajek table are not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "Photometry",
    "UpperMainSequence",
    "bulge_stars",
    "disc_stars",
    "cluster_stars",
    "distance_modulus",
]

#: approximate dwarf masses (M_sun) by spectral type, after Pecaut & Mamajek (2013)
DWARF_MASSES = {
    "O5V": 37.0, "B0V": 15.0, "B0.5V": 12.5, "B1V": 10.5, "B1.5V": 9.0, "B2V": 7.8, "B2.5V": 6.9,
    "B3V": 5.8, "B4V": 4.9, "B5V": 4.5, "B6V": 4.0, "B7V": 3.6, "B8V": 3.2, "B9V": 2.6, "B9.5V": 2.4,
    "A0V": 2.2, "A1V": 2.1, "A2V": 2.0, "A3V": 1.9, "A5V": 1.85, "A7V": 1.7, "F0V": 1.6, "F2V": 1.45,
    "F5V": 1.3, "F8V": 1.15, "G0V": 1.07, "G2V": 1.0, "G5V": 0.95, "G8V": 0.9, "K0V": 0.87, "K2V": 0.8,
    "K5V": 0.7,
}  # fmt: skip

#: bulge red clump: K0 = 12.53 at the Galactic-centre distance modulus 14.52 (seed 000 §3.3)
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


class UpperMainSequence:
    """Mass -> (M_K, (H-K)_0) relation of dwarfs, from the shared reference tables."""

    def __init__(self, reference_dir: str | Path) -> None:
        reference_dir = Path(reference_dir)
        dwarfs = pd.read_csv(reference_dir / "dwarf_sequence_2mass.csv", comment="#")
        cotera = pd.read_csv(reference_dir / "cotera2000_quoted.csv", comment="#")
        late = dwarfs[dwarfs["spt"].isin([s for s in DWARF_MASSES if s not in ("O5V", "B0V")])]
        table = pd.concat(
            [
                cotera.rename(columns={"hk0": "h_ks", "m_k": "m_ks"})[["spt", "h_ks", "m_ks"]],
                late[["spt", "h_ks", "m_ks"]],
            ]
        )
        missing = set(DWARF_MASSES) - set(table["spt"])
        if missing:
            raise ValueError(f"reference tables in {reference_dir} lack spectral types {sorted(missing)}")
        table["mass"] = table["spt"].map(DWARF_MASSES)
        table = table.sort_values("mass")
        self.log_mass = np.log10(table["mass"].to_numpy())
        self.absolute_k = table["m_ks"].to_numpy(dtype=float)
        self.intrinsic_hk = table["h_ks"].to_numpy(dtype=float)
        self.spectral_types = dict(zip(table["spt"], table["mass"]))

    def mass_of(self, spectral_type: str) -> float:
        return float(self.spectral_types[spectral_type])

    def photometry(self, mass: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """M_K and (H-K)_0, linear in log mass (extrapolated flat beyond the table)."""
        log_mass = np.log10(mass)
        return np.interp(log_mass, self.log_mass, self.absolute_k), np.interp(log_mass, self.log_mass, self.intrinsic_hk)


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
) -> tuple[Photometry, NDArray[np.float64]]:
    """A young cluster whose tenth most massive star has the mass of ``tenth_type``.

    Nine stars are drawn from the IMF above that mass, one is placed at it,
    and the lower-mass members are drawn below it in the number the IMF
    implies (Poisson), so the tenth-brightest-star method has a known answer.
    Differential reddening is uniform in e_hk +- differential_halfwidth.

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
        e_hk=e_hk + rng.uniform(-differential_halfwidth, differential_halfwidth, n),
    )
    return photometry, masses
