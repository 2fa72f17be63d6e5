"""Figure of the calibration: comparison with the 2MASS-like reference (Dutra et al. 2003, Fig. 6)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from astropipe.calibrate.reference_comparison import ReferenceFit

__all__ = ["reference_comparison_figure"]


def reference_comparison_figure(panels: list[tuple[np.ndarray, np.ndarray, ReferenceFit]]) -> Figure:
    """Fig. 6: reference magnitude against ours per band, with the identity and the fitted relation.

    Parameters
    ----------
    panels : list of (mag, reference_mag, fit)
        One panel per band: our calibrated and the reference magnitudes of the stars
        in common and the :class:`ReferenceFit` (rejected points drawn as crosses).
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.8), squeeze=False)
    for ax, (mag, reference, fit) in zip(axes[0], panels, strict=True):
        ax.plot(mag[fit.used], reference[fit.used], "k.", ms=5, label=f"{fit.n_common - fit.n_rejected} stars")
        ax.plot(mag[~fit.used], reference[~fit.used], "rx", ms=6, label=f"{fit.n_rejected} rejected")
        lo, hi = np.nanmin(mag) - 0.3, np.nanmax(mag) + 0.3
        grid = np.linspace(lo, hi, 50)
        ax.plot(grid, grid, "0.5", lw=1, label="identity")
        ax.plot(
            grid,
            grid + fit.offset_mag + fit.slope * (grid - fit.pivot_mag),
            "C0-",
            label=f"fit: offset {fit.offset_mag:+.3f} +- {fit.offset_err_mag:.3f} at {fit.pivot_mag:g}, "
            f"slope {fit.slope:+.3f}",
        )
        name = "K" if fit.band == "Ks" else fit.band
        ax.set_xlabel(f"{name} (this work)")
        ax.set_ylabel(f"{'Ks' if fit.band == 'Ks' else name} (2MASS)")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
