"""Fields of the simulated night and the truth behind them.

A field is a patch of sky around (l, b) large enough to cover the detector at
every dither position. Its stars are the bulge and disc backgrounds plus a
class-specific component:

* ``object`` - Object 11 (Dutra et al. 2003, §3): a young cluster of radius ~40 arcsec
  at 7.6 kpc, E(H-K) = 1.14 +- 0.35 differential, tenth brightest member a B0V
  star (Cotera), embedded in nebulosity;
* ``embedded_cluster`` - a compact cluster with nebulosity and a dark cloud
  that extinguishes the background behind it (a star-count hole);
* ``dissolving_cluster`` - a loose stellar concentration without gas or dust;
* ``bright_star_blend`` - a few bright stars within a few arcsec, which 2MASS
  would not resolve, and no concentration of faint stars;
* ``field`` - nothing but the Galactic background.

A patchy extinction screen (:mod:`astropipe.simulate.extinction_screen`), off by default, can redden the
stars behind it (background and cluster) differently across the field.

Star positions are tangent-plane offsets (xi east, eta north, arcsec) from the
field centre, and ICRS coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table
from numpy.typing import NDArray

from astropipe.simulate.extinction_screen import ExtinctionScreen, ScreenRealisation
from astropipe.simulate.populations import Photometry, bulge_stars, cluster_stars, disc_stars, distance_modulus
from astropipe.stellar.main_sequence import UpperMainSequence

__all__ = ["SURVEY_CLASSES", "ClusterSpec", "FieldSpec", "Scene", "build_scene"]

SURVEY_CLASSES = ("embedded_cluster", "dissolving_cluster", "bright_star_blend", "field")


@dataclass(frozen=True)
class ClusterSpec:
    """A young cluster: its tenth most massive member, distance, reddening and shape."""

    tenth_type: str = "B0V"
    distance_kpc: float = 7.6
    e_hk: float = 1.14
    differential_e_hk: float = 0.35
    differential_e_hk_shape: str = "uniform"
    core_radius_arcsec: float = 10.0
    radius_arcsec: float = 40.0


@dataclass(frozen=True)
class FieldSpec:
    """Everything needed to draw one field's stars."""

    name: str
    kind: str  # "object" or one of SURVEY_CLASSES
    l_deg: float
    b_deg: float
    half_size_arcsec: float  # half side of the square patch of sky simulated
    bulge_density: float  # stars per arcmin^2 down to M_K = 4
    disc_density: float  # stars per arcmin^2
    bulge_e_hk: float = 0.70  # mean foreground E(H-K) of the bulge (0.10 at b=-6 deg + 0.60)
    bulge_e_hk_sigma: float = 0.08
    bulge_distance_modulus: float = 14.52
    cluster: ClusterSpec | None = None
    nebula_peak_ks_mag_arcsec2: float | None = None  # surface brightness of the nebula in Ks
    nebula_sigma_arcsec: float = 30.0
    dust_radius_arcsec: float = 0.0  # dark cloud behind the cluster (extinguishes the background)
    dust_e_hk: float = 1.5
    blend_stars: int = 0
    screen: ExtinctionScreen = field(default_factory=ExtinctionScreen)  # patchy extinction before the background


@dataclass
class Scene:
    """The stars of one field (truth) and its diffuse emission."""

    spec: FieldSpec
    center: SkyCoord
    stars: Table
    meta: dict = field(default_factory=dict)

    def nebula_ks_mag_arcsec2(self, xi: NDArray[np.float64], eta: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """Nebular Ks surface brightness (mag/arcsec^2) at offsets (arcsec), or None."""
        peak = self.spec.nebula_peak_ks_mag_arcsec2
        if peak is None:
            return None
        r2 = xi**2 + eta**2
        return peak + 2.5 * np.log10(np.e) * r2 / (2.0 * self.spec.nebula_sigma_arcsec**2)


def _king_radii(rng: np.random.Generator, n: int, core: float, limit: float) -> NDArray[np.float64]:
    """Radii for a surface density ~ 1 / (1 + (r/core)^2) truncated at ``limit`` (inverse CDF)."""
    total = np.log1p((limit / core) ** 2)
    return core * np.sqrt(np.expm1(rng.random(n) * total))


def _uniform_offsets(rng: np.random.Generator, n: int, half: float) -> tuple[NDArray, NDArray]:
    return rng.uniform(-half, half, n), rng.uniform(-half, half, n)


def _component(
    name: str, photometry: Photometry, xi: NDArray, eta: NDArray, ak_per_ehk: float, member: bool
) -> dict[str, NDArray]:
    h, k = photometry.apparent(ak_per_ehk)
    n = xi.size
    return {
        "population": np.full(n, name),
        "xi": xi,
        "eta": eta,
        "absolute_k": photometry.absolute_k,
        "intrinsic_hk": photometry.intrinsic_hk,
        "distance_modulus": photometry.distance_modulus,
        "e_hk": photometry.e_hk,
        "H": h,
        "K": k,
        "member": np.full(n, member),
    }


def build_scene(
    spec: FieldSpec,
    rng: np.random.Generator,
    sequence: UpperMainSequence,
    reference_dir: str,
    ak_per_ehk: float,
) -> Scene:
    """Draw the stars of a field.

    Parameters
    ----------
    spec : FieldSpec
    rng : numpy.random.Generator
        Seeded from the configuration seed and the field name.
    sequence : UpperMainSequence
        The dwarf calibration of cluster stars.
    reference_dir : str
        Directory of the shared reference tables (disc dwarfs).
    ak_per_ehk : float
        Extinction law A_K / E(H-K) (paper: 1.436).

    Returns
    -------
    Scene
        Stars with positions, intrinsic and apparent photometry, population
        and membership, plus scene metadata (injected cluster parameters).
    """
    half = spec.half_size_arcsec
    area = (2.0 * half / 60.0) ** 2
    parts = []
    n_bulge = rng.poisson(spec.bulge_density * area)
    bulge = bulge_stars(rng, n_bulge, spec.bulge_distance_modulus, spec.bulge_e_hk, spec.bulge_e_hk_sigma)
    xi, eta = _uniform_offsets(rng, n_bulge, half)
    if spec.dust_radius_arcsec > 0:
        behind = np.hypot(xi, eta) < spec.dust_radius_arcsec
        bulge.e_hk = np.where(behind, bulge.e_hk + spec.dust_e_hk, bulge.e_hk)
    parts.append(_component("bulge", bulge, xi, eta, ak_per_ehk, False))
    n_disc = rng.poisson(spec.disc_density * area)
    disc = disc_stars(rng, n_disc, reference_dir)
    parts.append(_component("disc", disc, *_uniform_offsets(rng, n_disc, half), ak_per_ehk, False))
    meta: dict = {"field": spec.name, "kind": spec.kind, "l_deg": spec.l_deg, "b_deg": spec.b_deg}
    if spec.cluster is not None:
        cluster, meta["cluster"] = _cluster(rng, spec.cluster, sequence, ak_per_ehk)
        parts.append(cluster)
    if spec.blend_stars:
        parts.append(_blend(rng, spec.blend_stars, ak_per_ehk))
    if spec.screen.e_hk_rms > 0:  # drawn last: the stars themselves are those drawn without the screen
        realisation = spec.screen.draw(rng, half)
        _redden_behind_screen(parts, spec.screen, realisation, ak_per_ehk)
        meta["screen"] = {
            "e_hk_rms": spec.screen.e_hk_rms,
            "correlation_arcsec": spec.screen.correlation_arcsec,
            "distance_kpc": spec.screen.distance_kpc,
        }
        if spec.cluster is not None:  # the members' mean E(H - K) is the cluster's e_hk plus this
            members = next(part for part in parts if part["population"][0] == "cluster")
            meta["cluster"]["e_hk_screen"] = float(np.mean(realisation.e_hk(members["xi"], members["eta"])))
    stars, center = _star_table(spec, parts)
    return Scene(spec=spec, center=center, stars=stars, meta=meta)


def _redden_behind_screen(
    parts: list[dict], screen: ExtinctionScreen, realisation: ScreenRealisation, ak_per_ehk: float
) -> None:
    """Add the screen's E(H - K) to every star beyond it: the bulge, the cluster and the disc stars farther away."""
    beyond = distance_modulus(screen.distance_kpc)
    for part in parts:
        extra = np.where(part["distance_modulus"] > beyond, realisation.e_hk(part["xi"], part["eta"]), 0.0)
        part["e_hk"] = part["e_hk"] + extra
        part["K"] = part["K"] + ak_per_ehk * extra
        part["H"] = part["H"] + (ak_per_ehk + 1.0) * extra


def _cluster(
    rng: np.random.Generator, c: ClusterSpec, sequence: UpperMainSequence, ak_per_ehk: float
) -> tuple[dict, dict]:
    """The cluster's members in a King profile, and its injected parameters (the truth)."""
    photometry, masses = cluster_stars(
        rng,
        sequence,
        c.tenth_type,
        c.distance_kpc,
        c.e_hk,
        c.differential_e_hk,
        differential_shape=c.differential_e_hk_shape,
    )
    radius = _king_radii(rng, masses.size, c.core_radius_arcsec, c.radius_arcsec)
    angle = rng.uniform(0.0, 2.0 * np.pi, masses.size)
    members = _component("cluster", photometry, radius * np.sin(angle), radius * np.cos(angle), ak_per_ehk, True)
    k_members = np.sort(members["K"])
    return members, {
        "tenth_brightest_type": c.tenth_type,
        "distance_kpc": c.distance_kpc,
        "distance_modulus": float(distance_modulus(c.distance_kpc)),
        "e_hk": c.e_hk,
        "e_hk_differential_halfwidth": c.differential_e_hk,
        "e_hk_differential_shape": c.differential_e_hk_shape,
        "a_k": ak_per_ehk * c.e_hk,
        "radius_arcsec": c.radius_arcsec,
        "core_radius_arcsec": c.core_radius_arcsec,
        "n_members": int(masses.size),
        "k10": float(k_members[9]) if k_members.size >= 10 else None,
        "absolute_k_tenth": float(sequence.photometry(np.array([sequence.mass_of(c.tenth_type)]))[0][0]),
    }


def _blend(rng: np.random.Generator, n: int, ak_per_ehk: float) -> dict:
    """A few bright stars close together: bright enough, and close enough, to have looked like a cluster on the
    2MASS images - which is why such blends were candidates at all (Dutra et al. 2003, section 2): K ~ 8.6-10.6
    within 4"."""
    blend = Photometry(
        absolute_k=rng.uniform(-4.0, -2.0, n),
        intrinsic_hk=np.full(n, 0.2),
        distance_modulus=np.full(n, 12.0),
        e_hk=np.full(n, 0.4),
    )
    radius = rng.uniform(0.5, 4.0, n)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    return _component("blend", blend, radius * np.sin(angle), radius * np.cos(angle), ak_per_ehk, False)


STAR_UNITS = {
    "xi": u.arcsec,
    "eta": u.arcsec,
    "ra": u.deg,
    "dec": u.deg,
    "H": u.mag,
    "K": u.mag,
    "absolute_k": u.mag,
    "intrinsic_hk": u.mag,
    "distance_modulus": u.mag,
    "e_hk": u.mag,
}


def _star_table(spec: FieldSpec, parts: list[dict]) -> tuple[Table, SkyCoord]:
    """The components' stars in one table with their sky positions, and the field centre (ICRS)."""
    stars = Table({key: np.concatenate([p[key] for p in parts]) for key in parts[0]})
    center = SkyCoord(l=spec.l_deg * u.deg, b=spec.b_deg * u.deg, frame="galactic").icrs
    positions = center.spherical_offsets_by(stars["xi"] * u.arcsec, stars["eta"] * u.arcsec)
    stars["ra"], stars["dec"] = positions.ra.deg, positions.dec.deg
    stars.add_column(np.arange(len(stars)), name="id", index=0)
    stars.add_column(np.full(len(stars), spec.name), name="field", index=0)
    for name, unit in STAR_UNITS.items():
        stars[name].unit = unit
    return stars, center
