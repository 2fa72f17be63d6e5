"""Figures of the survey: per-field thumbnails (the paper's 2'x2' extractions) and the sky map (Fig. 5)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from astropy.table import Table
from matplotlib.figure import Figure

from astropipe.survey.classify import CLASSES
from astropipe.survey.density import KingFit, RadialProfile, king_profile

__all__ = ["KNOWN_CLUSTERS", "confusion_figure", "sky_map_figure", "thumbnail_figure"]

#: Galactic (l, b) in degrees of the massive young clusters marked in Dutra et al. 2003, Fig. 5
KNOWN_CLUSTERS = {"Arches": (0.12, 0.02), "Quintuplet": (0.16, -0.06), "Nuclear Young Cluster": (-0.06, -0.05)}
MARKERS = {
    "embedded_cluster": ("o", "k", "k"),
    "dissolving_cluster": ("o", "none", "k"),
    "bright_star_blend": ("s", "C1", "C1"),
    "field": ("x", "0.5", "0.5"),
}


def thumbnail_figure(
    image: np.ndarray,
    centre: tuple[float, float],
    pixel_scale: float,
    profile: RadialProfile,
    king: KingFit,
    title: str,
    half_size_arcsec: float = 60.0,
) -> Figure:
    """A 2'x2' extraction around the candidate and its radial density profile with the King fit."""
    fig, (ax_image, ax_profile) = plt.subplots(1, 2, figsize=(10, 4.6))
    half = int(half_size_arcsec / pixel_scale)
    x0, y0 = int(round(centre[0])), int(round(centre[1]))
    cut = image[max(0, y0 - half) : y0 + half, max(0, x0 - half) : x0 + half]
    finite = cut[np.isfinite(cut)]
    lo, hi = np.percentile(finite, [5, 99.5]) if finite.size else (0.0, 1.0)
    ax_image.imshow(
        cut,
        origin="lower",
        cmap="gray_r",
        vmin=lo,
        vmax=hi,
        extent=[-half_size_arcsec, half_size_arcsec, -half_size_arcsec, half_size_arcsec],
    )
    ax_image.set(xlabel="offset (arcsec)", ylabel="offset (arcsec)", title=title)
    ax_profile.errorbar(profile.radius, profile.density, yerr=profile.density_err, fmt="ko", ms=3)
    grid = np.linspace(0.5, profile.outer[-1], 200)
    if np.isfinite(king.background):
        ax_profile.plot(
            grid,
            king_profile(grid, king.background, king.central, king.core_radius),
            "C0-",
            label=f"King: r_c = {king.core_radius:.0f} arcsec, background {king.background:.0f}",
        )
        ax_profile.legend(fontsize=8)
    ax_profile.set(xlabel="r (arcsec)", ylabel="stars per arcmin$^2$", xscale="log")
    fig.tight_layout()
    return fig


def sky_map_figure(classification: Table, zone_deg: float = 1.43) -> Figure:
    """Fig. 5: the candidates in (l, b) with their classes, the 200 pc zone and the known young clusters."""
    fig, ax = plt.subplots(figsize=(8, 6))
    l_deg = np.asarray(classification["l"], float)
    l_deg = np.where(l_deg > 180, l_deg - 360, l_deg)
    for name in CLASSES:
        chosen = np.asarray(classification["class"]) == name
        marker, face, edge = MARKERS[name]
        style = {"color": edge} if marker == "x" else {"facecolors": face, "edgecolors": edge}
        ax.scatter(
            l_deg[chosen],
            np.asarray(classification["b"], float)[chosen],
            marker=marker,
            s=40,
            label=f"{name} ({chosen.sum()})",
            **style,
        )
    for field, l_value, b_value in zip(classification["field"], l_deg, classification["b"], strict=True):
        ax.annotate(str(field), (l_value, float(b_value)), fontsize=6, xytext=(3, 3), textcoords="offset points")
    angle = np.linspace(0, 2 * np.pi, 200)
    ax.plot(zone_deg * np.cos(angle), zone_deg * np.sin(angle), "C3--", lw=1, label=f"{zone_deg} deg (200 pc)")
    label_offsets = {"Arches": (6, 10), "Quintuplet": (6, -4), "Nuclear Young Cluster": (6, -18)}
    for name, (l_value, b_value) in KNOWN_CLUSTERS.items():
        ax.plot(l_value, b_value, "+", color="C2", ms=10, mew=1.5)
        ax.annotate(
            name,
            (l_value, b_value),
            fontsize=7,
            color="C2",
            xytext=label_offsets.get(name, (4, -8)),
            textcoords="offset points",
            ha="right",
        )
    ax.set(xlabel="l (deg)", ylabel="b (deg)", aspect="equal")
    ax.invert_xaxis()
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def confusion_figure(matrix: Table | None, counts: dict[str, int]) -> Figure:
    """The confusion matrix (true class by row, assigned class by column), or the class counts without a truth."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.axis("off")
    if matrix is None:
        cells = [[name, str(counts.get(name, 0))] for name in CLASSES]
        ax.table(cellText=cells, colLabels=["class", "fields"], loc="center")
        ax.set_title("assigned classes (no truth: real data)")
    else:
        cells = [[row["true_class"]] + [str(int(row[name])) for name in CLASSES] for row in matrix]
        ax.table(cellText=cells, colLabels=["true \\ assigned", *list(CLASSES)], loc="center")
        agreement = sum(int(row[row["true_class"]]) for row in matrix) / max(
            1, sum(int(matrix[c].sum()) for c in CLASSES)
        )
        ax.set_title(f"confusion matrix: {agreement:.0%} of the fields agree with the truth")
    fig.tight_layout()
    return fig
