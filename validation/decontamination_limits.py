"""How many Object 11 members could any decontamination keep? The ideal classifier against the pipeline's.

Issue 6 asks the decontamination to keep >= 80 % of the true members above the
completeness limits while removing >= 80 % of the field stars in the object
area. This asks what the best possible classifier achieves on the same stars.
The ideal (Neyman-Pearson) classifier ranks stars by the likelihood ratio of
member to field, here known without estimation error: the member and field
densities in the measured (H, H - K) plane come from ``--realisations``
independent draws of the simulator's own populations (the Object 11 field spec
of the default configuration, seeds apart from the nights'), with the nights'
own measurement errors added (measured - true H and H - K of matched stars,
drawn from the same 0.5-mag bin of true H, crowding tails included), times the
cluster's King profile against a uniform field. It is evaluated on each night's
measured object-area catalogue (``membership.ecsv``) above that night's
completeness limits, labelled by the truth exactly as ``make validate`` does.

Printed per night: the fraction of members kept when 80 % of the field is
removed, and at the posterior threshold 0.5 (most likely class) - for the ideal
classifier and for the pipeline's membership probability - and the pipeline's
sum of probabilities against the true number of members (a calibrated
probability would sum to it). Reads the nights that ``make validate`` ran
(results/validation/seed*/); writes results/validation/decontamination_limits.ecsv.

Run: python validation/decontamination_limits.py [--seeds 20020704 101 202 303] [--realisations 400]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from astropy.table import Table
from numpy.typing import NDArray
from scipy.stats import gaussian_kde
from snakemake.utils import validate

from astropipe.simulate.night import NightSimulation
from astropipe.simulate.scene import FieldSpec, build_scene
from astropipe.stellar.main_sequence import UpperMainSequence

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "validation"
REALISATION_SEED = 7_000_000  # population draws use seeds from here on, apart from any night's
BIN_MAG = 0.5
KDE_BANDWIDTH = 0.1  # scipy's bw_method factor; 0.05-0.12 change the results by <= 0.04


@dataclass
class Night:
    """One night's measured object-area stars above the completeness limits, with truth labels."""

    h: NDArray[np.float64]
    hk: NDArray[np.float64]
    radius: NDArray[np.float64]
    probability: NDArray[np.float64]
    member: NDArray[np.bool_]
    limit_h: float
    limit_k: float
    true_h: NDArray[np.float64]
    true_hk: NDArray[np.float64]
    from_reference: NDArray[np.bool_]


def load_night(results: Path, night: str) -> Night:
    """The measured catalogue of Object 11 matched to the truth (as ``object11_nights.compare`` matches it)."""
    spec = importlib.util.spec_from_file_location("object11_nights", REPO / "validation" / "object11_nights.py")
    nights = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nights)
    field = results / "imaging" / night / "object11"
    cmd = json.loads((field / "cmd.json").read_text())
    stars, truth, member = nights.matched_members(results, night)
    complete = np.asarray((stars["K"] < cmd["completeness_limit_k_mag"]) & (stars["H"] < cmd["completeness_limit_h_mag"]))
    s = stars[complete]
    return Night(
        h=np.asarray(s["H"], float), hk=np.asarray(s["HK"], float), radius=np.asarray(s["radius"], float),
        probability=np.asarray(s["probability"], float), member=member[complete],
        limit_h=cmd["completeness_limit_h_mag"], limit_k=cmd["completeness_limit_k_mag"],
        true_h=np.asarray(truth["H"][complete], float), true_hk=np.asarray((truth["H"] - truth["K"])[complete], float),
        from_reference=np.asarray(s["source"] == "reference"),
    )  # fmt: skip


class MeasurementErrors:
    """Measured - true (H, H - K) of matched stars, drawn by true H (``BIN_MAG`` bins, +-1 bin)."""

    def __init__(self, nights: list[Night]) -> None:
        use = [n.true_h[~n.from_reference] for n in nights]
        self.true_h = np.concatenate(use)
        self.d_h = np.concatenate([(n.h - n.true_h)[~n.from_reference] for n in nights])
        self.d_hk = np.concatenate([(n.hk - n.true_hk)[~n.from_reference] for n in nights])
        self.bins = np.floor(self.true_h / BIN_MAG).astype(int)

    def add(self, rng: np.random.Generator, h: NDArray, hk: NDArray) -> tuple[NDArray, NDArray]:
        """(H, H - K) with an error drawn from stars of similar true H; stars outside the measured range unchanged."""
        h, hk = h.copy(), hk.copy()
        bins = np.floor(h / BIN_MAG).astype(int)
        for b in np.unique(bins):
            pool = np.flatnonzero(np.abs(self.bins - b) <= 1)
            if pool.size == 0:
                continue
            sel = bins == b
            pick = rng.choice(pool, sel.sum())
            h[sel] += self.d_h[pick]
            hk[sel] += self.d_hk[pick]
        return h, hk


def population_sample(spec: FieldSpec, realisations: int, reference_dir: Path, ak_per_ehk: float,
                      errors: MeasurementErrors, radius: float) -> Table:  # fmt: skip
    """Stars of many independent Object 11 scenes inside ``radius``, with measurement errors added."""
    sequence = UpperMainSequence(reference_dir)
    rng = np.random.default_rng(REALISATION_SEED)
    parts = []
    for i in range(realisations):
        stars = build_scene(spec, np.random.default_rng(REALISATION_SEED + i), sequence, str(reference_dir), ak_per_ehk).stars
        stars = stars[np.hypot(stars["xi"], stars["eta"]) < radius]
        h, hk = errors.add(rng, np.asarray(stars["H"], float), np.asarray(stars["H"] - stars["K"], float))
        parts.append(Table({"H": h, "HK": hk, "member": np.asarray(stars["member"])}))
    table = Table(np.concatenate([p.as_array() for p in parts]))
    table.meta["realisations"] = realisations
    return table


def ideal_posterior(night: Night, sample: Table, core_radius: float, cluster_radius: float, radius: float) -> NDArray:
    """P(member | H, H - K, r) from the known densities (sample above the night's limits; King x uniform)."""
    above = (sample["H"] < night.limit_h) & (sample["H"] - sample["HK"] < night.limit_k)
    members, field = sample[above & sample["member"]], sample[above & ~sample["member"]]
    n_real = sample.meta["realisations"]
    at = np.vstack([night.h, night.hk])
    density_m = gaussian_kde(np.vstack([members["H"], members["HK"]]), bw_method=KDE_BANDWIDTH)(at)
    density_f = gaussian_kde(np.vstack([field["H"], field["HK"]]), bw_method=KDE_BANDWIDTH)(at)
    king = np.where(night.radius < cluster_radius, 1.0 / (1.0 + (night.radius / core_radius) ** 2), 0.0)
    radial_m = king / (np.pi * core_radius**2 * np.log1p((cluster_radius / core_radius) ** 2))
    radial_f = 1.0 / (np.pi * radius**2)
    like_m = len(members) / n_real * density_m * radial_m
    like_f = len(field) / n_real * density_f * radial_f
    return like_m / (like_m + like_f)


def kept_at_removal(score: NDArray, member: NDArray[np.bool_], removal: float = 0.8) -> float:
    """Largest fraction of members with score >= t over thresholds t that remove >= ``removal`` of the rest.

    The thresholds are the scores themselves; the best is the lowest score above
    the field's ``removal`` quantile (the ceil(removal x n)-th lowest field score).
    """
    field = np.sort(score[~member])
    needed = int(np.ceil(removal * field.size - 1e-9))
    if needed == 0:
        return 1.0
    above = score[score > field[needed - 1]]
    return float((score[member] >= above.min()).mean()) if above.size else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[20020704, 101, 202, 303])
    parser.add_argument("--realisations", type=int, default=400)
    args = parser.parse_args()
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    imaging = config["imaging"]
    reference_dir = (REPO / imaging["reference_dir"]).resolve()
    simulation = NightSimulation(imaging, reference_dir)
    spec, settings = simulation.object_field(), config["imaging"]["cmd"]
    radius = settings["object_radius_arcsec"]
    nights = {seed: load_night(OUT / f"seed{seed}" / "results", imaging["night"]) for seed in args.seeds}
    errors = MeasurementErrors(list(nights.values()))
    sample = population_sample(spec, args.realisations, reference_dir, simulation.ak_per_ehk, errors, radius)
    rows = []
    for seed, night in nights.items():
        ideal = ideal_posterior(night, sample, spec.cluster.core_radius_arcsec, spec.cluster.radius_arcsec, radius)
        row = {
            "seed": seed, "n_members": int(night.member.sum()), "n_field": int((~night.member).sum()),
            "ideal_kept_at_80_removed": kept_at_removal(ideal, night.member),
            "ideal_kept_p05": float((ideal[night.member] >= 0.5).mean()),
            "ideal_removed_p05": float((ideal[~night.member] < 0.5).mean()),
            "pipeline_kept_at_80_removed": kept_at_removal(night.probability, night.member),
            "pipeline_kept_p05": float((night.probability[night.member] >= 0.5).mean()),
            "pipeline_removed_p05": float((night.probability[~night.member] < 0.5).mean()),
            "pipeline_sum_probability": float(night.probability.sum()),
        }  # fmt: skip
        rows.append(row)
        print(f"seed {seed}: {row['n_members']} members, {row['n_field']} field stars above the limits | members kept "
              f"at 80 % field removed: ideal {row['ideal_kept_at_80_removed']:.0%}, pipeline "
              f"{row['pipeline_kept_at_80_removed']:.0%} | at p >= 0.5 (kept/removed): ideal "
              f"{row['ideal_kept_p05']:.0%}/{row['ideal_removed_p05']:.0%}, pipeline {row['pipeline_kept_p05']:.0%}/"
              f"{row['pipeline_removed_p05']:.0%} | pipeline sum of p {row['pipeline_sum_probability']:.0f} "
              f"for {row['n_members']} members", flush=True)  # fmt: skip
    table = Table(rows)
    table.meta.update({"realisations": args.realisations, "kde_bandwidth": KDE_BANDWIDTH})
    table.write(OUT / "decontamination_limits.ecsv", format="ascii.ecsv", overwrite=True)


if __name__ == "__main__":
    main()
