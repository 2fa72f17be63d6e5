"""The tenth-brightest survivor of the paper's decontamination on simulated nights: matching on H or on the
equal-density scale.

The paper's decontamination (Zoccali et al. 2003, as used by Dutra et al. 2003) removes, for each star of the
area-scaled field CMD, the nearest object star in d = sqrt([7 Delta(H - K)]^2 + Delta H^2). Where the counts rise
steeply towards faint magnitudes a bright field star's nearest object star is more often a fainter one, bright
object stars survive too often, and K10 (the tenth-brightest red survivor) comes out bright; more so in the
pipeline's rings of the object disc (``--annuli`` sets their number), where a bright field star finds no object
star within the matching limit more often, and less on the paper's single disc, which removes the cluster's core
members as often as anything and so biases K10 faint. The pipeline can match
on H (``imaging.cmd.decontamination.magnitude_axis: magnitude``, the paper) or on the scale on which the object
area's stars are evenly spaced (``equal_density``, :func:`astropipe.cmd.decontaminate.equal_density_magnitudes`).

This compares the two on ``--clusters`` Object 11 scenes drawn from the simulator's populations (default
configuration; seeds apart from the nights' and the other validation scripts'), measured as the tuning nights
measured their stars, so that the choice is made on neither the held-out nor the fresh nights: (H, H - K) errors
drawn from the tuning nights' measured - true values of stars of similar true H (``object11_limits.py``), each star
kept with the probability c_H(H) c_K(K) of one tuning night's artificial stars (scene i takes night i mod 4), the
object disc and a field annulus beyond ``field_inner_radius_arcsec`` with that night's field area; then the
pipeline's ring decontamination with the configured settings, once per axis. Reported per axis: K10 - true K10
(mean, median, scatter), the B0V distance from it (A_K exact) within 15 % of the injected one, and the members kept
and field stars removed at the configured membership probability above the night's completeness limits.

Brings the four tuning nights up to date first (``object11_nights.run_night``); writes
results/validation/decontamination_axis.ecsv (one row per scene and axis; with ``--annuli N``, another number of
rings than the configuration's, ``decontamination_axis_annuliN.ecsv``). The options of ``scene_variants.py`` draw
scenes that break one of the pipeline's assumptions (e.g. ``--screen-rms 0.1``: a patchy foreground extinction
screen; the file's name says which).

Run: python validation/decontamination_axis.py [--clusters 100] [--cores 2] [--annuli N] [--screen-rms 0.1]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from astropy.table import Table

from astropipe.cmd.artificial_star_response import completeness_model
from astropipe.cmd.background_reddening import background_reddening_step
from astropipe.cmd.membership import decontaminate_rings, tenth_brightest_per_repeat
from astropipe.simulate.scene import FieldSpec, build_scene
from astropipe.stellar.main_sequence import UpperMainSequence

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when loaded as a module (the tests do)
from object11_limits import MeasurementErrors, default_simulation, load_night
from object11_nights import OUT, TUNING_SEEDS, run_night
from scene_variants import add_scene_arguments, decontamination_settings, scene_meta, scene_suffix, scene_variant

SCENE_SEED = 10_000_000  # apart from the nights' seeds and from object11_limits.py's and upper_ms_selection.py's
AXES = ("magnitude", "equal_density")
_QUIET = logging.getLogger("decontamination_axis")  # the rings' progress lines, once per scene and axis, unwanted
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@dataclass(frozen=True)
class TuningNight:
    """What a simulated scene borrows from one tuning night: its artificial stars' completeness tables (with the
    instrumental-to-calibrated offsets), completeness limits, colour valley and field area."""

    completeness_h: Table
    offset_h: float
    completeness_k: Table
    offset_k: float
    limit_h: float
    limit_k: float
    boundary_hk: float
    field_area_arcmin2: float

    def detection_probability(self, h: np.ndarray, k: np.ndarray) -> np.ndarray:
        """c_H(H) c_K(K) at calibrated (H, K) (mag)."""
        return completeness_model(self.completeness_h, self.offset_h, self.completeness_k, self.offset_k)(h, k)


def tuning_night(results: Path, night: str) -> TuningNight:
    """One tuning night's completeness (its artificial stars), completeness limits, colour valley and field area."""
    field = results / "imaging" / night / "object11"
    cmd = json.loads((field / "cmd.json").read_text())
    meta = Table.read(field / "cmd_stars.ecsv", format="ascii.ecsv").meta

    def table(band: str) -> Table:
        return Table.read(field / band / "completeness.ecsv", format="ascii.ecsv")

    return TuningNight(
        table("H"),
        float(meta["instrumental_to_calibrated_H_mag"]),
        table("Ks"),
        float(meta["instrumental_to_calibrated_Ks_mag"]),
        cmd["completeness_limit_h_mag"],
        cmd["completeness_limit_k_mag"],
        json.loads((field / "decontamination.json").read_text())["red_sequence_boundary_hk"],
        cmd["area_field_arcmin2"],
    )


@dataclass(frozen=True)
class Setup:
    """Everything one scene's comparison needs (picklable, for the worker processes)."""

    spec: FieldSpec
    reference_dir: Path
    ak_per_ehk: float
    errors: MeasurementErrors
    nights: list[TuningNight]
    object_radius: float
    field_inner_radius: float
    annuli: int
    settings: dict
    member_probability: float


def simulated_regions(setup: Setup, index: int) -> tuple[Table, Table, dict, TuningNight]:
    """Scene ``index`` as measured: its object-disc and field-annulus stars, its cluster's truth, its tuning night."""
    night = setup.nights[index % len(setup.nights)]
    sequence = UpperMainSequence(setup.reference_dir)
    scene = build_scene(
        setup.spec, np.random.default_rng(SCENE_SEED + index), sequence, str(setup.reference_dir), setup.ak_per_ehk
    )
    stars = scene.stars
    rng = np.random.default_rng((SCENE_SEED, index))
    h, hk = setup.errors.add(rng, np.asarray(stars["H"], float), np.asarray(stars["H"] - stars["K"], float))
    radius = np.hypot(stars["xi"], stars["eta"])
    measured = Table(
        {"H": h, "HK": hk, "K": h - hk, "radius": radius, "member": np.asarray(stars["member"])}
        | {"xi": np.asarray(stars["xi"]), "eta": np.asarray(stars["eta"])}
    )
    detected = rng.random(len(measured)) < night.detection_probability(h, h - hk)
    field_outer = np.sqrt(night.field_area_arcmin2 * 3600.0 / np.pi + setup.field_inner_radius**2)
    measured = _behind_median_foreground(setup, night, measured[detected & (radius < field_outer)])
    obj = measured[measured["radius"] < setup.object_radius]
    field = measured[measured["radius"] > setup.field_inner_radius]
    return obj, field, scene.meta["cluster"], night


def _behind_median_foreground(setup: Setup, night: TuningNight, measured: Table) -> Table:
    """The decontamination's step 0 (``background_reddening``) on the stars of the scene's frame."""
    limits = (night.limit_h, night.limit_k)
    settings = setup.settings["background_reddening"]
    stars, _ = background_reddening_step(
        measured, night.boundary_hk, limits, setup.ak_per_ehk, settings, positions=("xi", "eta")
    )
    return stars


def compare_axes(setup: Setup, index: int) -> list[dict]:
    """K10 and the kept/removed fractions of scene ``index`` with each magnitude axis."""
    obj, field, cluster, night = simulated_regions(setup, index)
    field_area = night.field_area_arcmin2 * 3600.0  # arcsec^2
    edges = np.linspace(0.0, setup.object_radius, setup.annuli + 1)
    annuli = [
        {"inner_arcsec": a, "outer_arcsec": b, "area_ratio": np.pi * (b**2 - a**2) / field_area}
        for a, b in itertools.pairwise(edges)
    ]
    red = np.asarray(obj["HK"]) > night.boundary_hk
    above = np.asarray((obj["H"] < night.limit_h) & (obj["K"] < night.limit_k))
    member = np.asarray(obj["member"])
    # A_K exact: the cluster's, plus a foreground screen's mean over its members where there is one
    a_k = cluster["a_k"] + setup.ak_per_ehk * cluster.get("e_hk_screen", 0.0)
    nominal = cluster["absolute_k_tenth"] + cluster["distance_modulus"] + a_k
    rows = []
    for axis in AXES:
        rings = decontaminate_rings(
            obj, field, annuli, setup.settings | {"magnitude_axis": axis}, SCENE_SEED + index, _QUIET
        )
        k10 = float(
            np.nanmedian(tenth_brightest_per_repeat(np.asarray(obj["K"]), red, rings.survivors, SCENE_SEED + index))
        )
        kept = rings.probability >= setup.member_probability
        rows.append(
            {
                "scene": index,
                "axis": axis,
                "k10_minus_true": k10 - cluster["k10"],
                "distance_ratio": float(10 ** ((k10 - nominal) / 5.0)),
                "members_kept": float(kept[above & member].mean()),
                "field_removed": float((~kept[above & ~member]).mean()),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--annuli", type=int, default=None, help="rings of the object disc (default: the configuration's, 3)"
    )
    add_scene_arguments(parser)
    args = parser.parse_args()
    imaging, reference_dir, simulation = default_simulation()
    results = [run_night(seed, args.cores) for seed in TUNING_SEEDS]
    cmd = imaging["cmd"]
    settings = decontamination_settings(cmd["decontamination"], args)
    setup = Setup(
        scene_variant(simulation.object_field(), args),
        reference_dir,
        simulation.ak_per_ehk,
        MeasurementErrors.from_nights([load_night(r, imaging["night"]) for r in results]),
        [tuning_night(r, imaging["night"]) for r in results],
        cmd["object_radius_arcsec"],
        cmd["field_inner_radius_arcsec"],
        settings["annuli"] if args.annuli is None else args.annuli,
        settings,
        settings["member_probability"],
    )
    with Pool(args.cores) as pool:
        rows = [
            row for scene in pool.starmap(compare_axes, [(setup, i) for i in range(args.clusters)]) for row in scene
        ]
    table = Table(rows)
    for axis in AXES:
        t = table[table["axis"] == axis]
        d = np.asarray(t["k10_minus_true"])
        print(
            f"{axis}: K10 - true K10 mean {np.nanmean(d):+.2f}, median {np.nanmedian(d):+.2f}, scatter "
            f"{np.nanstd(d):.2f} mag, within 0.3 mag on {np.mean(np.abs(d) <= 0.3):.0%}; B0V distance within 15 % on "
            f"{np.mean(np.abs(t['distance_ratio'] - 1) <= 0.15):.0%} (mean ratio {np.nanmean(t['distance_ratio']):.2f});"
            f" at p >= {settings['member_probability']}: members kept {np.mean(t['members_kept']):.0%}, field removed "
            f"{np.mean(t['field_removed']):.0%} (means over {len(t)} scenes)"
        )
    table.meta.update(
        {
            "clusters": args.clusters,
            "tuning_seeds": list(TUNING_SEEDS),
            "settings": settings,
            "annuli": setup.annuli,
            **scene_meta(args),
        }
    )
    suffix = ("" if args.annuli is None else f"_annuli{args.annuli}") + scene_suffix(args)
    table.write(OUT / f"decontamination_axis{suffix}.ecsv", format="ascii.ecsv", overwrite=True)


if __name__ == "__main__":
    main()
