"""The mixture model's operating point on simulated nights: its own balanced point or a field removal measured on
the field region.

The mixture model (``astropipe.cmd.mixture``) gives calibrated membership probabilities under its model, and its
``balanced`` operating point keeps the stars above the threshold at which the completeness and the field removal it
expects are equal. Both expectations rest on the model. The field removal can also be measured without it: the field
region's own stars, placed over the object disc, are given the probability they would have there, and the share
below a threshold is the share of the object area's field stars that threshold removes
(``MixtureMembership.field_region_removal``); ``mixture_operating_point: field_removal`` keeps the stars above the
threshold that removes ``mixture_field_removal`` of them.

This compares the two on ``--clusters`` Object 11 scenes drawn from the simulator's populations and measured as the
tuning nights measured their stars - the scenes of ``decontamination_axis.py`` (its errors, completeness, regions
and seeds) - so that neither the held-out nor the fresh nights take part: the mixture is fitted as the pipeline fits
it (the colour errors of the tuning night's artificial stars, its completeness, colour valley and field area), and
for each operating point the members kept and field stars removed above the night's completeness limits are counted
from the truth, beside the removal the model expects and the one measured on the field region. Also reported: the
most members any threshold on the model's ranking keeps while removing 80 % of the field stars.

The tuning nights' measured - true errors have crowding tails (blends matched to a fainter injected star) that
here strike any star of similar H, isolated members included; the nights measured from their images lose fewer
members to them. ``--error-tail-mag 0.15`` leaves those pairs out (16 % of them), which brackets the nights from
the other side: the best threshold on the model's ranking then keeps about as many members as on the nights, or
more.

The simulated clusters' differential reddening is uniform by default, as the mixture's member band assumes, and
the background behind the field uniformly reddened, as its field density (taken from the field region) assumes;
the options of ``scene_variants.py`` break either (``--reddening-shape gaussian`` or ``exponential``,
``--screen-rms 0.1``).

Brings the four tuning nights up to date first (``object11_nights.run_night``); writes
results/validation/mixture_operating_point.ecsv (one row per scene and operating point;
``mixture_operating_point_tails0.15.ecsv`` with ``--error-tail-mag 0.15``, ``..._reddening_gaussian.ecsv`` with
``--reddening-shape gaussian``, ``..._screen0.1_30arcsec.ecsv`` with ``--screen-rms 0.1``).

Run: python validation/mixture_operating_point.py [--clusters 100] [--cores 2] [--error-tail-mag 0.15]
[--reddening-shape gaussian] [--screen-rms 0.1 [--screen-correlation 30]]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from astropy.table import Table

from astropipe.cmd.artificial_star_response import colour_error_distribution
from astropipe.cmd.mixture import fit_mixture_membership

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when loaded as a module (the tests do)
from decontamination_axis import Setup, TuningNight, simulated_regions, tuning_night
from object11_limits import MeasurementErrors, default_simulation, kept_at_removal, load_night
from object11_nights import OUT, TUNING_SEEDS, run_night
from scene_variants import add_scene_arguments, decontamination_settings, scene_meta, scene_suffix, scene_variant

FIELD_REMOVALS = (0.80, 0.82, 0.85, 0.88)  # the field_removal operating points compared with the balanced one
BRIGHTEST_TABULATED_MAG = 5.0  # the colour errors are tabulated from here to the night's completeness limits


@dataclass(frozen=True)
class OperatingPointSetup:
    """The scenes (``decontamination_axis.Setup``) and each tuning night's colour-error distribution (the same order
    as ``scenes.nights``)."""

    scenes: Setup
    colour_errors: list[Callable]


def night_colour_errors(results: Path, night: str, tuning: TuningNight) -> Callable:
    """One tuning night's H - K error distribution from its artificial stars, as the pipeline builds it."""
    field = results / "imaging" / night / "object11"

    def table(band: str) -> Table:
        return Table.read(field / band / "artificial_stars.ecsv", format="ascii.ecsv")

    return colour_error_distribution(
        table("H"),
        tuning.offset_h,
        table("Ks"),
        tuning.offset_k,
        (BRIGHTEST_TABULATED_MAG, tuning.limit_h),
        (BRIGHTEST_TABULATED_MAG, tuning.limit_k),
    ).at


def compare_operating_points(setup: OperatingPointSetup, index: int) -> list[dict]:
    """Members kept and field stars removed in scene ``index`` at each operating point of its mixture fit."""
    obj, field, _, night = simulated_regions(setup.scenes, index)
    radius = setup.scenes.object_radius
    mixture = fit_mixture_membership(
        *(np.asarray(obj[c], float) for c in ("H", "HK", "radius")),
        *(np.asarray(field[c], float) for c in ("H", "HK")),
        *(night.limit_h, night.limit_k, radius),
        setup.colour_errors[index % len(setup.colour_errors)],
        completeness=night.detection_probability,
        blue_edge=night.boundary_hk,
        field_area_ratio=np.pi * radius**2 / (night.field_area_arcmin2 * 3600.0),
    )
    above = np.isfinite(mixture.probability)
    p, member = mixture.probability[above], np.asarray(obj["member"])[above]
    points = [("balanced", mixture.threshold_balanced())] + [
        (f"field_removal {removal:.2f}", mixture.threshold_for_field_removal(removal)) for removal in FIELD_REMOVALS
    ]
    return [
        {
            "scene": index,
            "operating_point": name,
            "threshold": threshold,
            "members_kept": float((p[member] >= threshold).mean()),
            "field_removed": float((p[~member] < threshold).mean()),
            "expected_field_removal": mixture.expected_rates(threshold)[1],
            "field_region_removal": mixture.field_region_removal(threshold),
            "best_kept_at_80_removed": kept_at_removal(p, member),
            "n_members": int(member.sum()),
            "n_field": int((~member).sum()),
            "n_members_fitted": mixture.n_members,
        }
        for name, threshold in points
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--error-tail-mag",
        type=float,
        default=None,
        help="leave out the tuning nights' error pairs with |dH| or |d(H - K)| above this (their crowding tails)",
    )
    add_scene_arguments(parser)
    args = parser.parse_args()
    imaging, reference_dir, simulation = default_simulation()
    spec = scene_variant(simulation.object_field(), args)
    results = [run_night(seed, args.cores) for seed in TUNING_SEEDS]
    cmd = imaging["cmd"]
    nights = [tuning_night(r, imaging["night"]) for r in results]
    errors = MeasurementErrors.from_nights([load_night(r, imaging["night"]) for r in results])
    scenes = Setup(
        spec,
        reference_dir,
        simulation.ak_per_ehk,
        errors if args.error_tail_mag is None else errors.without_tails(args.error_tail_mag),
        nights,
        cmd["object_radius_arcsec"],
        cmd["field_inner_radius_arcsec"],
        cmd["decontamination"]["annuli"],
        decontamination_settings(cmd["decontamination"], args),
        cmd["decontamination"]["member_probability"],
    )
    setup = OperatingPointSetup(
        scenes, [night_colour_errors(r, imaging["night"], n) for r, n in zip(results, nights, strict=True)]
    )
    with Pool(args.cores) as pool:
        rows = [
            row
            for scene in pool.starmap(compare_operating_points, [(setup, i) for i in range(args.clusters)])
            for row in scene
        ]
    table = Table(rows)
    for name in dict.fromkeys(table["operating_point"]):
        t = table[table["operating_point"] == name]
        kept, removed = np.asarray(t["members_kept"]), np.asarray(t["field_removed"])
        print(
            f"{name}: members kept {kept.mean():.1%}, field removed {removed.mean():.1%} (expected by the model "
            f"{np.mean(t['expected_field_removal']):.1%}, measured on the field region "
            f"{np.mean(t['field_region_removal']):.1%}); removed >= 80 % on {np.mean(removed >= 0.8):.0%} of "
            f"scenes, kept >= 80 % on {np.mean(kept >= 0.8):.0%}, both on {np.mean((kept >= 0.8) & (removed >= 0.8)):.0%}"
        )
    first = table[table["operating_point"] == "balanced"]
    best = np.asarray(first["best_kept_at_80_removed"])
    print(
        f"best threshold on the model's ranking at 80 % field removal: members kept {best.mean():.1%} (>= 80 % on "
        f"{np.mean(best >= 0.8):.0%} of scenes); fitted / true members median "
        f"{np.median(first['n_members_fitted'] / first['n_members']):.2f} ({len(first)} scenes)"
    )
    table.meta.update(
        {
            "clusters": args.clusters,
            "tuning_seeds": list(TUNING_SEEDS),
            "error_tail_mag": args.error_tail_mag,
            **scene_meta(args),
        }
    )
    suffix = "" if args.error_tail_mag is None else f"_tails{args.error_tail_mag:g}"
    suffix += scene_suffix(args)
    table.write(OUT / f"mixture_operating_point{suffix}.ecsv", format="ascii.ecsv", overwrite=True)


if __name__ == "__main__":
    main()
