"""The upper main sequence of dwarfs: mass -> (M_K, (H-K)_0), shared by the simulator and the distances.

Calibration of the upper main sequence (documented choice): O5V and B0V from
Cotera et al. (2000) as quoted by Dutra et al. 2003 (``cotera2000_quoted.csv``), so that
the paper's tenth-brightest-star method is self-consistent; B0.5V and later
from the Pecaut & Mamajek dwarf sequence; masses approximate, after Pecaut &
Mamajek (2013). The two calibrations differ by ~0.4 mag at B0V, which is why
O9V-B0V of the Mamajek table are not used.
Used by :mod:`astropipe.simulate` to draw cluster members and by the
tenth-brightest-star distances (Dutra et al. 2003, §3.3), so that
the analysis does not depend on the simulator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["DWARF_MASSES", "UpperMainSequence"]

#: approximate dwarf masses (M_sun) by spectral type, after Pecaut & Mamajek (2013)
DWARF_MASSES = {
    "O5V": 37.0,
    "B0V": 15.0,
    "B0.5V": 12.5,
    "B1V": 10.5,
    "B1.5V": 9.0,
    "B2V": 7.8,
    "B2.5V": 6.9,
    "B3V": 5.8,
    "B4V": 4.9,
    "B5V": 4.5,
    "B6V": 4.0,
    "B7V": 3.6,
    "B8V": 3.2,
    "B9V": 2.6,
    "B9.5V": 2.4,
    "A0V": 2.2,
    "A1V": 2.1,
    "A2V": 2.0,
    "A3V": 1.9,
    "A5V": 1.85,
    "A7V": 1.7,
    "F0V": 1.6,
    "F2V": 1.45,
    "F5V": 1.3,
    "F8V": 1.15,
    "G0V": 1.07,
    "G2V": 1.0,
    "G5V": 0.95,
    "G8V": 0.9,
    "K0V": 0.87,
    "K2V": 0.8,
    "K5V": 0.7,
}


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
        self.spectral_types = dict(zip(table["spt"], table["mass"], strict=True))

    def mass_of(self, spectral_type: str) -> float:
        return float(self.spectral_types[spectral_type])

    def photometry(self, mass: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """M_K and (H-K)_0, linear in log mass (extrapolated flat beyond the table)."""
        log_mass = np.log10(mass)
        return np.interp(log_mass, self.log_mass, self.absolute_k), np.interp(
            log_mass, self.log_mass, self.intrinsic_hk
        )
