"""Figures of the lensing branch, drawn from the tabulated grid (results/lensing/grid.ecsv)."""

from __future__ import annotations

import astropy.constants as const
import astropy.units as u
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from astropy.table import Table
from matplotlib.figure import Figure

__all__ = [
    "classical_vs_relativistic",
    "cross_section",
    "deflection_vs_impact_parameter",
    "light_vs_massive",
    "time_delay",
]

#: R_sun in units of G M_sun / c^2
SOLAR_RADIUS_OVER_M = float((const.R_sun / (const.G * const.M_sun / const.c**2)).to_value(u.one))


def _rows(table: Table, v: float) -> Table:
    rows = table[np.isclose(table["v"], v, rtol=1e-12, atol=0)]
    if len(rows) == 0:
        raise ValueError(f"speed v = {v} is not in the grid (speeds: {sorted(set(table['v']))})")
    return rows[np.argsort(rows["b"])]


def _speeds(table: Table) -> list[float]:
    return sorted({float(x) for x in table["v"]}, reverse=True)


def classical_vs_relativistic(table: Table, massive_speed: float) -> Figure:
    """Joshi's Fig. 1a: classical and relativistic deflection of a massive particle by the Sun."""
    rows = _rows(table, massive_speed)
    x = rows["b"] / SOLAR_RADIUS_OVER_M
    exact = np.asarray(rows["alpha_exact"])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, height_ratios=[2, 1])
    curves = {
        "exact (Schwarzschild)": ("alpha_exact", "k-"),
        "Newtonian hyperbola": ("alpha_newtonian", "C0--"),
        "Joshi eq. 4": ("alpha_joshi", "C1-."),
        "weak field, 2nd order": ("alpha_weak2", "C2:"),
    }
    for label, (column, style) in curves.items():
        top.loglog(x, np.asarray(rows[column]) * 206264.806, style, label=label)
        if column != "alpha_exact":
            bottom.loglog(x, np.abs(np.asarray(rows[column]) / exact - 1.0), style, label=label)
    top.axvline(1.0, color="0.6", lw=0.8)
    top.text(1.05, top.get_ylim()[0] * 2, "solar limb", color="0.4")
    top.set_ylabel("deflection (arcsec)")
    top.set_title(f"massive particle, v = {massive_speed:g} c, around a solar mass")
    top.legend()
    bottom.set_xlabel(r"impact parameter $b$ / R$_\odot$")
    bottom.set_ylabel("|approx / exact - 1|")
    fig.tight_layout()
    return fig


def light_vs_massive(table: Table, massive_speed: float) -> Figure:
    """Joshi's Fig. 1b: bending of light against that of a massive particle."""
    light, massive = _rows(table, 1.0), _rows(table, massive_speed)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, height_ratios=[2, 1])
    top.loglog(light["b"], light["alpha_exact"], "k-", label="light (v = 1)")
    top.loglog(massive["b"], massive["alpha_exact"], "C3-", label=f"massive, v = {massive_speed:g}")
    top.set_ylabel("exact deflection (rad)")
    top.legend()
    b_grid = np.geomspace(max(light["b"].min(), massive["b"].min()), min(light["b"].max(), massive["b"].max()), 200)
    ratio = np.interp(np.log(b_grid), np.log(massive["b"]), massive["alpha_exact"]) / np.interp(
        np.log(b_grid), np.log(light["b"]), light["alpha_exact"]
    )
    bottom.semilogx(b_grid, ratio, "C3-", label="exact ratio")
    bottom.axhline(
        (1 + massive_speed**2) / (2 * massive_speed**2), color="k", ls="--", label=r"weak field $(1+v^2)/2v^2$"
    )
    bottom.set_yscale("log")
    bottom.set_xlabel(r"impact parameter $b$ / M")
    bottom.set_ylabel(r"$\alpha_{massive} / \alpha_{light}$")
    bottom.legend()
    fig.tight_layout()
    return fig


def deflection_vs_impact_parameter(table: Table) -> Figure:
    """Exact deflection against b for every speed, with b_c and the limiting forms."""
    fig, ax = plt.subplots(figsize=(8, 6))
    for i, v in enumerate(_speeds(table)):
        rows = _rows(table, v)
        color = f"C{i % 10}"
        b_c = rows["b"][0] / rows["b_over_bc"][0]
        ax.loglog(rows["b"], rows["alpha_exact"], "-", color=color, label=f"v = {v:g}")
        ax.loglog(rows["b"], rows["alpha_weak2"], ":", color=color)
        near = rows["b_over_bc"] < 1.5
        ax.loglog(rows["b"][near], rows["alpha_strong"][near], "--", color=color, lw=0.8)
        ax.axvline(b_c, color=color, lw=0.6, alpha=0.6)
    ax.set_xlabel(r"impact parameter $b$ / M")
    ax.set_ylabel("deflection (rad)")
    ax.set_title(
        "exact (solid), weak field 2nd order (dotted), strong-deflection limit (dashed);\n"
        "vertical lines: capture limit $b_c(v)$",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def time_delay(table: Table) -> Figure:
    """Delay relative to straight-line motion: exact, Joshi's eq. 9 and Newtonian."""
    fig, ax = plt.subplots(figsize=(8, 6))
    for i, v in enumerate(_speeds(table)):
        rows = _rows(table, v)
        color = f"C{i % 10}"
        ax.semilogx(rows["b"], rows["delay_exact"], "-", color=color, label=f"v = {v:g}")
        ax.semilogx(rows["b"], rows["delay_joshi"], "--", color=color, lw=0.8)
        ax.semilogx(rows["b"], rows["delay_newtonian"], ":", color=color, lw=0.8)
    ax.set_yscale("symlog", linthresh=10.0)
    ax.axhline(0.0, color="0.5", lw=0.6)
    radius = table.meta.get("delay_radius_over_mass", float("nan"))
    ax.set_xlabel(r"impact parameter $b$ / M")
    ax.set_ylabel(r"delay $\tau$ (units of GM/c$^3$)")
    ax.set_title(
        f"source and observer at r = {radius:.3g} M; exact (solid), Joshi eq. 9 (dashed), Newtonian (dotted)",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def cross_section(table: Table) -> Figure:
    """d sigma / d Omega against scattering angle: exact and Rutherford (eq. 5)."""
    fig, ax = plt.subplots(figsize=(8, 6))
    for i, v in enumerate(_speeds(table)):
        rows = _rows(table, v)
        keep = (rows["alpha_exact"] > 0) & (rows["alpha_exact"] < np.pi)
        color = f"C{i % 10}"
        ax.loglog(rows["alpha_exact"][keep], rows["cross_section"][keep], "-", color=color, label=f"v = {v:g}")
        ax.loglog(rows["alpha_exact"][keep], rows["cross_section_rutherford"][keep], ":", color=color)
    ax.set_xlabel(r"scattering angle $\alpha$ (rad)")
    ax.set_ylabel(r"$d\sigma/d\Omega$ (M$^2$ sr$^{-1}$)")
    ax.set_title(r"exact $b|db/d\alpha|/\sin\alpha$ (solid) and Rutherford eq. 5 (dotted)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
