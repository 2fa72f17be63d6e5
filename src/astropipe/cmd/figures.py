"""Figures of the CMD analysis: Dutra et al. 2003, Figs. 7 (CMDs, colour histogram), 8 (luminosity functions),
9 (decontamination) and 10 (main-sequence overlay)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from astropy.table import Table
from matplotlib.figure import Figure

from astropipe.cmd.sequences import ColourSequences, kernel_density

__all__ = ["cmd_figure", "decontamination_figure", "luminosity_figure", "main_sequence_figure"]

_LIMITS = {"xlim": (-0.5, 3.0), "ylim": (19.0, 7.0)}


def _cmd(ax, hk, k, title: str, **style) -> None:
    ax.plot(hk, k, ".", ms=style.pop("ms", 2), color=style.pop("color", "k"), **style)
    ax.set(xlabel="H - K", ylabel="K", title=title, **_LIMITS)


def cmd_figure(stars: Table, sequences: ColourSequences, bins: np.ndarray) -> Figure:
    """Fig. 7: K vs H - K of the object and field regions (stars saturated in our images, taken from the
    reference survey, circled), and the colour histogram with the located sequences."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 5))
    obj, field = stars["region"] == "object", stars["region"] == "field"
    _cmd(axes[0], stars["HK"][obj], stars["K"][obj], f"object area ({obj.sum()} stars)")
    _cmd(axes[2], stars["HK"][field], stars["K"][field], f"field ({field.sum()} stars)")
    reference = stars["source"] == "reference"
    for ax, region in ((axes[0], obj), (axes[2], field)):
        ax.plot(
            stars["HK"][region & reference],
            stars["K"][region & reference],
            "o",
            mfc="none",
            mec="C1",
            ms=5,
            label="saturated here: 2MASS-like photometry",
        )
        ax.legend(fontsize=7, loc="lower left")
    used = stars["in_sequences"]
    axes[1].hist(stars["HK"][used], bins=bins, color="0.6", label=f"{used.sum()} stars above the completeness limits")
    grid = np.linspace(bins[0], bins[-1], 400)
    density = kernel_density(np.asarray(stars["HK"][used], float), grid, sequences.bandwidth)
    axes[1].plot(grid, density * np.diff(bins)[0], "C0-", label="kernel density")
    for valley in sequences.valleys:
        axes[1].axvline(valley, color="0.3", ls=":", lw=1)
    for mean, err in zip(sequences.medians, sequences.medians_err, strict=True):
        axes[1].axvline(mean, color="C3", ls="--", lw=1)
        axes[1].text(mean, axes[1].get_ylim()[1] * 0.95, f" {mean:.2f}+-{err:.2f}", color="C3", fontsize=8, va="top")
    axes[1].set(xlabel="H - K", ylabel="stars per bin", title="colour histogram")
    axes[1].legend(fontsize=7, loc="center right")
    fig.tight_layout()
    return fig


def luminosity_figure(lf: Table, intervals: dict[str, tuple[float, float]]) -> Figure:
    """Fig. 8: K histograms of object and area-scaled field in the two colour intervals; field-subtracted LF."""
    fig, axes = plt.subplots(3, 1, figsize=(6, 10), sharex=True)
    centre = 0.5 * (lf["k_lo"] + lf["k_hi"])
    for ax, name in zip(axes[:2], ("blue", "red"), strict=True):
        lo, hi = intervals[name]
        ax.step(centre, lf[f"{name}_object"], where="mid", color="k", label="object")
        ax.step(
            centre, lf[f"{name}_field"], where="mid", color="C0", ls="--", label="field (scaled to the object area)"
        )
        ax.set(ylabel="N per bin", title=f"{lo} < H - K < {hi}")
        ax.legend(fontsize=8)
    axes[2].errorbar(centre, lf["red_subtracted"], yerr=lf["red_subtracted_err"], fmt="ko-", ms=3, label="observed")
    axes[2].errorbar(
        centre,
        lf["red_subtracted_corrected"],
        yerr=lf["red_subtracted_corrected_err"],
        fmt="C3s--",
        ms=3,
        label="completeness-corrected",
    )
    axes[2].axhline(0, color="0.6", lw=0.6)
    axes[2].set(xlabel="K", ylabel="N per bin", title="field-subtracted luminosity function (red interval)")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    return fig


def decontamination_figure(obj: Table, field: Table, probability_cut: float) -> Figure:
    """Fig. 9: (a) object area, (b) field, (c) decontaminated, (d) statistically removed stars."""
    fig, axes = plt.subplots(1, 4, figsize=(16, 5), sharey=True)
    member = obj["probability"] >= probability_cut
    _cmd(axes[0], obj["HK"], obj["K"], f"(a) object area ({len(obj)})")
    _cmd(axes[1], field["HK"], field["K"], f"(b) field ({len(field)})")
    _cmd(axes[2], obj["HK"][member], obj["K"][member], f"(c) decontaminated ({member.sum()})")
    _cmd(axes[3], obj["HK"][~member], obj["K"][~member], f"(d) removed ({(~member).sum()})", color="C3")
    fig.tight_layout()
    return fig


def main_sequence_figure(obj: Table, probability_cut: float, sequence: Table, summary: dict, hypothesis: str) -> Figure:
    """Fig. 10: decontaminated CMD with the reddened main sequence of one distance solution."""
    fig, ax = plt.subplots(figsize=(6, 7))
    member = obj["probability"] >= probability_cut
    _cmd(ax, obj["HK"][member], obj["K"][member], "")
    line = sequence[sequence["label"] == ""]
    ax.plot(line["HK"], line["K"], "C0-", lw=1.2, label=f"main sequence, {hypothesis} solution")
    for row in sequence[sequence["label"] != ""]:
        ax.plot(row["HK"], row["K"], "C0o", ms=4)
        ax.text(row["HK"] + 0.08, row["K"], row["label"], color="C0", fontsize=8, va="center")
    d = summary["distance_kpc"][hypothesis]
    ax.axhline(summary["k10"], color="C3", ls=":", lw=1)
    ax.set_title(
        f"{hypothesis} solution: d = {d['value']:.1f} +- {d['err']:.1f} kpc, E(H-K) = {summary['e_hk']:.2f}, "
        f"K10 = {summary['k10']:.2f}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig
