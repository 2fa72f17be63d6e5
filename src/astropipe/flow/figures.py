"""Figures of the flow branch: Hudson et al. (1999) Figs. 1-3 and the Monte-Carlo recovery."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
from astropy.coordinates import SkyCoord, Supergalactic
from astropy.table import Table
from matplotlib.figure import Figure
from scipy.stats import chi2

from astropipe.flow.geometry import unit_vectors

__all__ = ["aitoff_directions", "recovery_coverage", "supergalactic_projection", "velocity_vs_apex_angle"]


def velocity_vs_apex_angle(clusters: Table, summary: dict) -> Figure:
    """Fig. 1: peculiar velocity against angle from the flow apex, with the model V cos(theta)."""
    apex = np.asarray(summary["vector_kms"]) / summary["amplitude_kms"]
    cos_angle = unit_vectors(clusters["l"], clusters["b"]) @ apex
    angle = np.degrees(np.arccos(np.clip(cos_angle, -1, 1)))
    v, e = np.asarray(clusters["peculiar_kms"]), np.asarray(clusters["error_kms"])
    model = summary["amplitude_kms"] * cos_angle
    outlier = np.abs(v - model) > 2 * e
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.scatter(angle, v, s=4e4 / e, facecolors="none", edgecolors="k")
    ax.errorbar(angle[outlier], v[outlier], yerr=e[outlier], fmt="none", ecolor="C3", label="> 2 sigma from the flow")
    grid = np.linspace(0, 180, 200)
    ax.plot(grid, summary["amplitude_kms"] * np.cos(np.radians(grid)), "C0-", label="best-fitting bulk flow")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xlabel("angle from the apex (deg)")
    ax.set_ylabel("CMB-frame peculiar velocity (km/s)")
    ax.set_title(
        f"V = {summary['amplitude_kms']:.0f} +- {summary['amplitude_err_kms']:.0f} km/s towards "
        f"l = {summary['l_deg']:.0f}, b = {summary['b_deg']:.0f}; symbol size ~ 1/error",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _aitoff_xy(l_deg, b_deg):
    lon = -np.radians((np.asarray(l_deg) + 180.0) % 360.0 - 180.0)  # l increasing to the left
    return lon, np.radians(np.asarray(b_deg))


def aitoff_directions(clusters: Table, summary: dict, rng: np.random.Generator, draws: int = 1000) -> Figure:
    """Fig. 3: clusters in Galactic coordinates, the flow apex and 1000 directions from the error ellipsoid."""
    fig = plt.figure(figsize=(9, 5))
    ax = fig.add_subplot(111, projection="aitoff")
    v = np.asarray(clusters["peculiar_kms"])
    x, y = _aitoff_xy(clusters["l"], clusters["b"])
    ax.scatter(x[v < 0], y[v < 0], s=np.abs(v[v < 0]) / 10, facecolors="none", edgecolors="C0", label="inflowing")
    ax.scatter(x[v >= 0], y[v >= 0], s=np.abs(v[v >= 0]) / 10, marker="*", color="C3", label="outflowing")
    samples = rng.multivariate_normal(summary["vector_kms"], summary["covariance_kms2"], size=draws)
    l_s = np.degrees(np.arctan2(samples[:, 1], samples[:, 0])) % 360
    b_s = np.degrees(np.arcsin(samples[:, 2] / np.linalg.norm(samples, axis=1)))
    sx, sy = _aitoff_xy(l_s, b_s)
    ax.plot(sx, sy, ",", color="0.3")
    ax_, ay_ = _aitoff_xy(summary["l_deg"], summary["b_deg"])
    ax.text(ax_, ay_, "S", fontsize=16, ha="center", va="center", color="k", weight="bold")
    ax.grid(True)
    ax.set_xticklabels([f"{int(t)}" for t in (150, 120, 90, 60, 30, 0, 330, 300, 270, 240, 210)], fontsize=7)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def supergalactic_projection(clusters: Table, max_angle_deg: float = 45.0) -> Figure:
    """Fig. 2: velocities projected on the plane 45 deg between SGX = 0 and SGZ = 0.

    Horizontal axis e1 = (SGX + SGZ) / sqrt(2) (its negative end points to l = 272, b = -3),
    vertical axis SGY; clusters within ``max_angle_deg`` of the plane; circles at the distance,
    lines to the CMB-frame cz (solid and filled: outflowing; dotted and open: inflowing); circle
    size inversely proportional to the velocity error; the zone of avoidance |b| < 15 deg shaded.
    """
    sg = SkyCoord(l=np.asarray(clusters["l"]) * u.deg, b=np.asarray(clusters["b"]) * u.deg, frame="galactic")
    xyz = np.asarray(sg.transform_to(Supergalactic()).cartesian.xyz.value).T
    e1, e2, normal = np.array([1, 0, 1]) / np.sqrt(2), np.array([0, 1, 0]), np.array([1, 0, -1]) / np.sqrt(2)
    near = np.abs(xyz @ normal) < np.sin(np.radians(max_angle_deg))
    d, cz = np.asarray(clusters["distance_kms"])[near], np.asarray(clusters["cz_cmb"])[near]
    v, e = np.asarray(clusters["peculiar_kms"])[near], np.asarray(clusters["error_kms"])[near]
    p1, p2 = xyz[near] @ e1, xyz[near] @ e2
    fig, ax = plt.subplots(figsize=(7, 7))
    theta = np.linspace(0, 2 * np.pi, 721)
    directions = np.outer(np.cos(theta), e1) + np.outer(np.sin(theta), e2)
    galactic_b = SkyCoord(*directions.T, representation_type="cartesian", frame=Supergalactic()).galactic.b.deg
    limit = 1.05 * max(np.max(cz), np.max(d))
    for t0, t1, zone in zip(theta[:-1], theta[1:], np.abs(galactic_b[:-1]) < 15, strict=True):
        if zone:
            ax.fill(
                [0, limit * np.cos(t0), limit * np.cos(t1)],
                [0, limit * np.sin(t0), limit * np.sin(t1)],
                color="0.85",
                lw=0,
            )
    for x, y, dist, z, vel, err in zip(p1, p2, d, cz, v, e, strict=True):
        outflow = vel >= 0
        ax.plot([x * dist, x * z], [y * dist, y * z], "k-" if outflow else "k:", lw=0.8)
        ax.scatter(x * dist, y * dist, s=3e4 / err, facecolors="k" if outflow else "none", edgecolors="k")
    ax.plot(0, 0, "r+", ms=12)
    ax.text(0, 0, " LG", color="r")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel("(SGX + SGZ)/sqrt 2  (km/s)   <- l = 272, b = -3")
    ax.set_ylabel("SGY (km/s)")
    ax.set_title(f"{near.sum()} clusters within {max_angle_deg:.0f} deg of the plane; shaded: |b| < 15 deg", fontsize=9)
    fig.tight_layout()
    return fig


def recovery_coverage(realisations: Table, summary: dict) -> Figure:
    """Monte-Carlo recovery: cumulative distribution of chi^2 = dV^T C^-1 dV against chi^2_3, and |V|.

    Quoted errors that are right put the Monte-Carlo curve on the chi^2_3
    curve; the 68 % and 95 % coverages are its values at the two quantiles.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    values = np.sort(np.asarray(realisations["chi2"]))
    left.step(
        values, np.arange(1, values.size + 1) / values.size, where="post", label=f"{values.size} simulated surveys"
    )
    grid = np.linspace(0, max(values.max(), chi2.ppf(0.995, 3)), 300)
    left.plot(grid, chi2.cdf(grid, 3), "C3--", label="chi^2, 3 dof (errors exact)")
    for label, entry in summary["coverage"].items():
        left.axvline(chi2.ppf(entry["nominal"], 3), color="0.6", lw=0.6)
        left.text(chi2.ppf(entry["nominal"], 3), 0.05, f" {label} %: {100 * entry['fraction']:.0f} %", fontsize=8)
    left.set_xlabel("(V - V_true)^T C^-1 (V - V_true)")
    left.set_ylabel("fraction of surveys")
    left.legend(fontsize=8, loc="upper left")
    fitted = np.linalg.norm(np.column_stack([realisations["vx"], realisations["vy"], realisations["vz"]]), axis=1)
    injected = np.linalg.norm(np.column_stack([realisations["tx"], realisations["ty"], realisations["tz"]]), axis=1)
    right.hist(fitted, bins=25, color="0.7", label="fitted |V|")
    right.axvline(np.median(injected), color="C3", label="injected |V|")
    right.set_xlabel("|V| (km/s)")
    bias = ", ".join(f"{b:.0f}" for b in summary["bias_vector_kms"])
    bias_err = ", ".join(f"{e:.0f}" for e in summary["bias_vector_err_kms"])
    right.set_title(
        f"mean V - V_true = ({bias}) +- ({bias_err}) km/s;\nMonte-Carlo / quoted variance "
        f"{summary['scatter_over_quoted_trace']:.2f}",
        fontsize=9,
    )
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig
