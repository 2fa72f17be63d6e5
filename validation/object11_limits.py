"""What an ideal analysis of Object 11 would achieve: the decontamination's and the distance's limits.

The targets are (a) the decontamination to keep >= 80 % of the true members above
the completeness limits while removing >= 80 % of the field stars in the
object area, and (b) the B0V tenth-brightest-star distance within 15 % of the
injected 7.6 kpc. This measures what an analysis that knew the populations
exactly would achieve, so that the pipeline's numbers can be read against it.

The ideal (Neyman-Pearson) classifier ranks stars by the likelihood ratio of
member to field with no estimation error: the member and field densities in
the measured (H, H - K) plane come from ``--realisations`` independent draws of
the simulator's own populations (the Object 11 field spec of the default
configuration, seeds apart from the nights'), with the nights' own measurement
errors added (measured - true H and H - K of matched stars, drawn from stars of
similar true H, crowding tails included), times the cluster's King profile
against a uniform field; the prior is the populations' mean numbers.

(a) On each night's measured object-area catalogue (``membership.ecsv``) above
that night's completeness limits, labelled by the truth as ``make validate``
does: members kept when 80 % of the field is removed, and kept/removed at
posterior 0.5 (the most likely class), for the ideal classifier and for the
pipeline's probabilities; and the pipeline's sum of probabilities against the
true number of members (a calibrated probability would sum to it); and the same for the
mixture-model membership (``mixture_probability``, kept/removed at its configured threshold), and the members
its ranking keeps at 80 % field removal with its field density (the field region's kernel density) replaced by
the exact one: how much of its shortfall against the ideal is the field region's noise.
(b) On ``--clusters`` further simulated nights (truth plus the same errors, no
images): the scatter of the injected clusters' own K10 about the B0V value;
K10 estimated with the ideal posteriors (the K at which their running sum from
the bright end reaches 10) against the true K10; and how often the B0V
distance from it, with A_K exact, lands within 15 % of 7.6 kpc. The ideal posteriors know the members'
luminosity function, and with it the distance; K10 by counting does not: the K at which the object area's red
stars exceed the field's exact mean number of them by ten (the paper's statistical subtraction without the field
region's noise), and the same with each star weighted by the cluster's exact King profile (a matched filter).
And the cluster
reddening as the pipeline measures it (median H - K of the upper main sequence,
the red stars down to ``upper_ms_depth_mag`` below K10 in a reddening-free
magnitude, minus the intrinsic colour): from the true members below the true
K10, and posterior-weighted below the ideal K10, against the injected
E(H - K) = 1.14, and how often each lands within 0.1 mag of it.

Reads the nights that ``make validate`` ran (results/validation/seed*/);
writes results/validation/object11_limits.ecsv (per night) and prints (b).

Run: python validation/object11_limits.py [--seeds 404 505 606 707 808 909 1010 1111] [--realisations 400] [--clusters 200]
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import inspect
import json
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from astropy.table import Table
from numpy.typing import NDArray
from scipy.stats import gaussian_kde
from snakemake.utils import validate

from astropipe.cmd.mixture import fit_mixture_membership
from astropipe.distance.reddening import upper_main_sequence_reddening
from astropipe.simulate.night import NightSimulation
from astropipe.simulate.scene import FieldSpec, build_scene
from astropipe.stellar.main_sequence import UpperMainSequence

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "validation"
REALISATION_SEED = 7_000_000  # population draws for the densities use seeds from here on, apart from any night's
CLUSTER_SEED = 8_000_000  # the further nights of part (b)
K10_SEARCH_LIMIT = 15.0  # mag; part (b) evaluates the posteriors of brighter stars only
BIN_MAG = 0.5
KDE_BANDWIDTH = 0.1  # scipy's bw_method factor; 0.05-0.12 change the results by <= 0.04
#: the kernel size of the mixture model's field density, as the pipeline fits it
MIXTURE_FIELD_BANDWIDTH = inspect.signature(fit_mixture_membership).parameters["field_bandwidth"].default


@dataclass
class Night:
    """One night's measured object-area stars above the completeness limits, with truth labels."""

    h: NDArray[np.float64]
    hk: NDArray[np.float64]
    radius: NDArray[np.float64]
    probability: NDArray[np.float64]
    mixture_probability: NDArray[np.float64]
    mixture_threshold: float
    member: NDArray[np.bool_]
    limit_h: float
    limit_k: float
    true_h: NDArray[np.float64]
    true_hk: NDArray[np.float64]
    from_reference: NDArray[np.bool_]
    red_sequence_boundary_hk: float
    field_h: NDArray[np.float64]  # the field region's stars above the limits, whose CMD the mixture model's field is
    field_hk: NDArray[np.float64]


@functools.cache
def validation_nights() -> types.ModuleType:
    """``validation/object11_nights.py`` as a module: its matching to the truth and the seeds it runs."""
    spec = importlib.util.spec_from_file_location("object11_nights", REPO / "validation" / "object11_nights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_night(results: Path, night: str) -> Night:
    """The measured catalogue of Object 11 matched to the truth (as ``object11_nights.compare`` matches it)."""
    nights = validation_nights()
    directory = results / "imaging" / night / "object11"
    cmd = json.loads((directory / "cmd.json").read_text())
    boundary = json.loads((directory / "decontamination.json").read_text())["red_sequence_boundary_hk"]
    stars, truth, member = nights.matched_members(results, night)
    complete = np.asarray(
        (stars["K"] < cmd["completeness_limit_k_mag"]) & (stars["H"] < cmd["completeness_limit_h_mag"])
    )
    s = stars[complete]
    cmd_stars = Table.read(directory / "cmd_stars.ecsv", format="ascii.ecsv")
    region = cmd_stars[
        (cmd_stars["region"] == "field")
        & (cmd_stars["H"] < cmd["completeness_limit_h_mag"])
        & (cmd_stars["K"] < cmd["completeness_limit_k_mag"])
    ]
    return Night(
        h=np.asarray(s["H"], float),
        hk=np.asarray(s["HK"], float),
        radius=np.asarray(s["radius"], float),
        probability=np.asarray(s["probability"], float),
        member=member[complete],
        mixture_probability=np.asarray(s["mixture_probability"], float),
        mixture_threshold=stars.meta["mixture_threshold"],
        limit_h=cmd["completeness_limit_h_mag"],
        limit_k=cmd["completeness_limit_k_mag"],
        true_h=np.asarray(truth["H"][complete], float),
        true_hk=np.asarray((truth["H"] - truth["K"])[complete], float),
        from_reference=np.asarray(s["source"] == "reference"),
        red_sequence_boundary_hk=boundary,
        field_h=np.asarray(region["H"], float),
        field_hk=np.asarray(region["HK"], float),
    )


@dataclass
class MeasurementErrors:
    """Measured - true (H, H - K) of matched stars (mag), drawn by true H (``BIN_MAG`` bins, +-1 bin)."""

    true_h: NDArray
    d_h: NDArray
    d_hk: NDArray
    bins: NDArray = field(init=False)

    def __post_init__(self) -> None:
        self.bins = np.floor(self.true_h / BIN_MAG).astype(int)

    @classmethod
    def from_nights(cls, nights: list[Night]) -> MeasurementErrors:
        """The pairs of every night's measured stars (those put in from the 2MASS-like reference, saturated in
        our frames, are not our measurements)."""
        return cls(
            true_h=np.concatenate([n.true_h[~n.from_reference] for n in nights]),
            d_h=np.concatenate([(n.h - n.true_h)[~n.from_reference] for n in nights]),
            d_hk=np.concatenate([(n.hk - n.true_hk)[~n.from_reference] for n in nights]),
        )

    def without_tails(self, limit: float) -> MeasurementErrors:
        """A copy without the pairs whose |Delta H| or |Delta (H - K)| exceeds ``limit`` (mag): the crowding tails
        (blends matched to a fainter injected star), which here strike any star of that H, isolated or not."""
        keep = (np.abs(self.d_h) <= limit) & (np.abs(self.d_hk) <= limit)
        return MeasurementErrors(true_h=self.true_h[keep], d_h=self.d_h[keep], d_hk=self.d_hk[keep])

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


def measured_scene(stars: Table, errors: MeasurementErrors, rng: np.random.Generator, radius: float) -> Table:
    """A scene's stars inside ``radius`` as measured: (H, H - K) with errors, K = H - (H - K), radius, member."""
    stars = stars[np.hypot(stars["xi"], stars["eta"]) < radius]
    h, hk = errors.add(rng, np.asarray(stars["H"], float), np.asarray(stars["H"] - stars["K"], float))
    return Table(
        {
            "H": h,
            "HK": hk,
            "K": h - hk,
            "radius": np.hypot(stars["xi"], stars["eta"]),
            "member": np.asarray(stars["member"]),
        }
    )


class IdealClassifier:
    """P(member | H, H - K, r) from the populations' known densities, above given completeness limits.

    Parameters
    ----------
    spec : FieldSpec
        The Object 11 field (its cluster's King core and truncation radius).
    realisations : int
        Independent scenes drawn for the member density (a quarter of them for the field's).
    reference_dir : Path
        The shared reference tables (dwarf sequence).
    ak_per_ehk : float
        Extinction law.
    errors : MeasurementErrors
        Added to every drawn star.
    radius : float
        Object-area radius (arcsec); the field is uniform over it.
    """

    def __init__(
        self,
        spec: FieldSpec,
        realisations: int,
        reference_dir: Path,
        ak_per_ehk: float,
        errors: MeasurementErrors,
        radius: float,
    ) -> None:
        sequence = UpperMainSequence(reference_dir)
        rng = np.random.default_rng(REALISATION_SEED)
        scenes = [
            build_scene(
                spec, np.random.default_rng(REALISATION_SEED + i), sequence, str(reference_dir), ak_per_ehk
            ).stars
            for i in range(realisations)
        ]
        measured = [measured_scene(s, errors, rng, radius) for s in scenes]
        # members from every scene; the ~10 times more numerous field stars from the first quarter of them
        self.members = Table(np.concatenate([m[m["member"]].as_array() for m in measured]))
        self.field = Table(np.concatenate([m[~m["member"]].as_array() for m in measured[: max(1, realisations // 4)]]))
        self.member_scenes, self.field_scenes = realisations, max(1, realisations // 4)
        self.radius = radius
        self.core, self.truncation = spec.cluster.core_radius_arcsec, spec.cluster.radius_arcsec
        self._densities: dict[tuple[float, float], tuple] = {}

    def _for_limits(self, limit_h: float, limit_k: float) -> tuple:
        key = (limit_h, limit_k)
        if key not in self._densities:
            members = self.members[(self.members["H"] < limit_h) & (self.members["K"] < limit_k)]
            field_stars = self.field[(self.field["H"] < limit_h) & (self.field["K"] < limit_k)]
            self._densities[key] = (
                len(members) / self.member_scenes,
                gaussian_kde(np.vstack([members["H"], members["HK"]]), KDE_BANDWIDTH),
                len(field_stars) / self.field_scenes,
                gaussian_kde(np.vstack([field_stars["H"], field_stars["HK"]]), KDE_BANDWIDTH),
            )
        return self._densities[key]

    def king_profile(self, r: NDArray) -> NDArray:
        """The cluster's surface density g(r) (arcsec^-2), normalised over its truncation radius."""
        king = np.where(r < self.truncation, 1.0 / (1.0 + (r / self.core) ** 2), 0.0)
        return king / (np.pi * self.core**2 * np.log1p((self.truncation / self.core) ** 2))

    def field_red_brighter(self, k: NDArray, boundary_hk: float, limit_h: float, limit_k: float) -> NDArray:
        """The field's mean number of stars redder than ``boundary_hk`` and brighter than each ``k`` in the object
        area, above the limits (exact: from the populations, not from a field region)."""
        red = self.field[(self.field["H"] < limit_h) & (self.field["K"] < limit_k) & (self.field["HK"] > boundary_hk)]
        return np.searchsorted(np.sort(np.asarray(red["K"], float)), k, side="right") / self.field_scenes

    def red_excess(
        self, k: NDArray, hk: NDArray, r: NDArray, boundary_hk: float, limits: tuple[float, float], *, weighted: bool
    ) -> tuple[NDArray, NDArray]:
        """The members brighter than each red star, counted against the exactly known field, blind to the members'
        luminosity function: the stars redder than ``boundary_hk`` sorted by K, and the number of them up to each
        minus the field's mean number (the statistical subtraction with no field-region noise); K10 is where it first
        reaches ten (:func:`first_reaching_ten`).

        ``weighted``: each star counts w(r) = g(r) / integral(g^2 dA), the cluster's exact profile g normalised over
        the object area A, and the field's mean number is subtracted at a uniformly spread star's mean weight,
        1 / (A integral(g^2 dA)) (the matched filter of a field-dominated count; its mean is the members' number).
        """
        red = hk > boundary_hk
        order = np.argsort(k[red])
        k_red, r_red = k[red][order], r[red][order]
        field_brighter = self.field_red_brighter(k_red, boundary_hk, *limits)
        if weighted:
            radii = np.linspace(0.0, self.radius, 20_001)
            profile_squared = np.trapezoid(self.king_profile(radii) ** 2 * 2.0 * np.pi * radii, radii)
            excess = np.cumsum(self.king_profile(r_red)) / profile_squared - field_brighter / (
                np.pi * self.radius**2 * profile_squared
            )
        else:
            excess = np.arange(1, k_red.size + 1) - field_brighter
        return k_red, excess

    def field_density(self, h: NDArray, hk: NDArray, limit_h: float, limit_k: float) -> NDArray:
        """The field's exact density in the measured (H, H - K) plane above the limits (up to a constant)."""
        return self._for_limits(limit_h, limit_k)[3](np.vstack([h, hk]))

    def posterior(self, h: NDArray, hk: NDArray, r: NDArray, limit_h: float, limit_k: float) -> NDArray:
        """Membership posterior of stars above the limits (the populations' mean numbers as the prior)."""
        n_m, density_m, n_f, density_f = self._for_limits(limit_h, limit_k)
        at = np.vstack([h, hk])
        like_m = n_m * density_m(at) * self.king_profile(r)
        like_f = n_f * density_f(at) / (np.pi * self.radius**2)
        return like_m / (like_m + like_f)


def posterior_k10(k: NDArray, posterior: NDArray) -> float:
    """K at which the posteriors summed from the brightest star reach 10 (the expected tenth member); NaN if never."""
    order = np.argsort(k)
    total = np.cumsum(posterior[order])
    return float(k[order][np.searchsorted(total, 10.0)]) if total.size and total[-1] >= 10.0 else float("nan")


def odds_with_exact_field(probability: NDArray, region_density: NDArray, exact_density: NDArray) -> NDArray:
    """A mixture's member odds p / (1 - p) with its field density (``region_density``, the field region's kernel
    density) replaced by the exact one: the ranking the same member model would give with no field-region noise.
    Both densities at the stars; constant factors do not change the ranking."""
    p = np.clip(probability, 1e-12, 1.0 - 1e-12)
    return p / (1.0 - p) * region_density / np.maximum(exact_density, np.finfo(float).tiny)


def first_reaching_ten(k_sorted: NDArray, count: NDArray) -> float:
    """The first K (``k_sorted`` from the brightest) at which ``count`` reaches 10; NaN if it never does."""
    reached = np.nonzero(count >= 10.0)[0]
    return float(k_sorted[reached[0]]) if reached.size else float("nan")


def kept_at_removal(score: NDArray, member: NDArray[np.bool_], removal: float = 0.8) -> float:
    """Largest fraction of members with score >= t over thresholds t that remove >= ``removal`` of the rest.

    The thresholds are the scores themselves; the best is the lowest score above
    the field's ``removal`` quantile (the ceil(removal x n)-th lowest field score).
    """
    field_scores = np.sort(score[~member])
    needed = int(np.ceil(removal * field_scores.size - 1e-9))
    if needed == 0:
        return 1.0
    above = score[score > field_scores[needed - 1]]
    return float((score[member] >= above.min()).mean()) if above.size else 0.0


def distance_limits(
    classifier: IdealClassifier,
    spec: FieldSpec,
    clusters: int,
    reference_dir: Path,
    ak_per_ehk: float,
    errors: MeasurementErrors,
    limits: tuple[float, float],
    upper_ms: dict[str, float],
) -> dict[str, float]:
    """Part (b) over new nights: K10 and the B0V distance, and E(H - K), from the truth and from ideal posteriors.

    ``upper_ms`` holds ``depth_mag``, ``intrinsic_hk`` (``imaging.distance``) and ``boundary_hk`` (the
    red-sequence boundary): the upper main sequence is the stars redder than the boundary down to
    ``depth_mag`` below K10 in a reddening-free magnitude, as the pipeline takes it.
    """
    sequence = UpperMainSequence(reference_dir)
    rng = np.random.default_rng(CLUSTER_SEED)
    true_k10, ideal_k10 = np.empty(clusters), np.empty(clusters)
    counted_k10, weighted_k10 = np.empty(clusters), np.empty(clusters)
    true_e_hk, ideal_e_hk = np.empty(clusters), np.empty(clusters)
    for i in range(clusters):
        scene = build_scene(spec, np.random.default_rng(CLUSTER_SEED + i), sequence, str(reference_dir), ak_per_ehk)
        stars = measured_scene(scene.stars, errors, rng, classifier.radius)
        stars = stars[(stars["H"] < limits[0]) & (stars["K"] < limits[1])]
        k, hk = np.asarray(stars["K"]), np.asarray(stars["HK"])
        posterior = classifier.posterior(np.asarray(stars["H"]), hk, np.asarray(stars["radius"]), *limits)
        true_k10[i] = scene.meta["cluster"]["k10"]
        # the running sum reaches ten members ~2 mag brighter than this on every night: fainter stars cannot count
        searched = k < K10_SEARCH_LIMIT
        ideal_k10[i] = posterior_k10(k[searched], posterior[searched])
        radius = np.asarray(stars["radius"])
        counted_k10[i], weighted_k10[i] = (
            first_reaching_ten(*classifier.red_excess(k, hk, radius, upper_ms["boundary_hk"], limits, weighted=w))
            for w in (False, True)
        )
        member = np.asarray(stars["member"])
        true_e_hk[i] = _upper_ms_e_hk(k, hk, np.where(member, 1.0, np.nan), true_k10[i], upper_ms, ak_per_ehk)
        ideal_e_hk[i] = _upper_ms_e_hk(k, hk, posterior, ideal_k10[i], upper_ms, ak_per_ehk)
    cluster = scene.meta["cluster"]
    nominal = cluster["absolute_k_tenth"] + cluster["distance_modulus"] + cluster["a_k"]
    within = {
        name: float(np.mean(np.abs(10 ** ((k10 - nominal) / 5.0) - 1.0) < 0.15))
        for name, k10 in (
            ("true", true_k10),
            ("ideal", ideal_k10),
            ("counted", counted_k10),
            ("weighted", weighted_k10),
        )
    }
    return {
        "k10_nominal": nominal,
        "true_k10_std": float(np.std(true_k10)),
        **{
            f"{name}_k10_minus_true_{statistic}": function(k10 - true_k10)
            for name, k10 in (("ideal", ideal_k10), ("counted", counted_k10), ("weighted", weighted_k10))
            for statistic, function in (("median", np.nanmedian), ("std", np.nanstd))
        },
        **{f"{name}_within_15_percent": value for name, value in within.items()},
        "e_hk_injected": cluster["e_hk"],
        **{
            f"{name}_e_hk_{statistic}": value
            for name, e_hk in (("true", true_e_hk), ("ideal", ideal_e_hk))
            for statistic, value in (
                ("median", float(np.nanmedian(e_hk))),
                ("std", float(np.nanstd(e_hk))),
                ("within_0.1", float(np.mean(np.abs(e_hk - cluster["e_hk"]) < 0.1))),
            )
        },
    }


def _upper_ms_e_hk(
    k: NDArray[np.float64],
    hk: NDArray[np.float64],
    weights: NDArray[np.float64],
    k10: float,
    upper_ms: dict[str, float],
    law: float,
) -> float:
    """E(H - K) as the pipeline measures it (the weighted median colour in the upper-main-sequence box, whose faint
    edge runs along the reddening vector), with ``weights`` the stars' membership; NaN with under 5 members."""
    try:
        return upper_main_sequence_reddening(
            k,
            hk,
            np.zeros(hk.size),
            weights,
            faint_k=k10 + upper_ms["depth_mag"],
            boundary=upper_ms["boundary_hk"],
            law=law,
            intrinsic_hk=upper_ms["intrinsic_hk"],
        ).cluster.e_hk
    except ValueError:
        return float("nan")


def default_simulation() -> tuple[dict, Path, NightSimulation]:
    """The default configuration's ``imaging`` section (validated, defaults filled in), its reference directory
    and its night simulation."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    imaging = config["imaging"]
    reference_dir = (
        REPO / "resources" / "reference" if imaging["reference_dir"] is None else Path(imaging["reference_dir"])
    )
    return imaging, reference_dir, NightSimulation(imaging, reference_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # by default the nights `object11_nights.py` runs by default (the held-out and the fresh ones)
    runs = validation_nights()
    parser.add_argument("--seeds", type=int, nargs="+", default=[*runs.HELD_OUT_SEEDS, *runs.FRESH_SEEDS])
    parser.add_argument("--realisations", type=int, default=400)
    parser.add_argument("--clusters", type=int, default=200)
    args = parser.parse_args()
    imaging, reference_dir, simulation = default_simulation()
    spec, radius = simulation.object_field(), imaging["cmd"]["object_radius_arcsec"]
    missing = [seed for seed in args.seeds if not (OUT / f"seed{seed}" / "results").is_dir()]
    if missing:
        raise SystemExit(
            f"no run of the night(s) {missing} under {OUT}: run python validation/object11_nights.py --seeds "
            + " ".join(map(str, missing))
        )
    nights = {seed: load_night(OUT / f"seed{seed}" / "results", imaging["night"]) for seed in args.seeds}
    errors = MeasurementErrors.from_nights(list(nights.values()))
    classifier = IdealClassifier(spec, args.realisations, reference_dir, simulation.ak_per_ehk, errors, radius)
    rows = []
    for seed, night in nights.items():
        ideal = classifier.posterior(night.h, night.hk, night.radius, night.limit_h, night.limit_k)
        row = {
            "seed": seed,
            "n_members": int(night.member.sum()),
            "n_field": int((~night.member).sum()),
            "ideal_kept_at_80_removed": kept_at_removal(ideal, night.member),
            "ideal_kept_p05": float((ideal[night.member] >= 0.5).mean()),
            "ideal_removed_p05": float((ideal[~night.member] < 0.5).mean()),
            "pipeline_kept_at_80_removed": kept_at_removal(night.probability, night.member),
            "pipeline_kept_p05": float((night.probability[night.member] >= 0.5).mean()),
            "pipeline_removed_p05": float((night.probability[~night.member] < 0.5).mean()),
            "pipeline_sum_probability": float(night.probability.sum()),
            "mixture_kept_at_80_removed": kept_at_removal(night.mixture_probability, night.member),
            "mixture_exact_field_kept_at_80_removed": kept_at_removal(
                odds_with_exact_field(
                    night.mixture_probability,
                    gaussian_kde(np.vstack([night.field_h, night.field_hk]), bw_method=MIXTURE_FIELD_BANDWIDTH)(
                        np.vstack([night.h, night.hk])
                    ),
                    classifier.field_density(night.h, night.hk, night.limit_h, night.limit_k),
                ),
                night.member,
            ),
            "mixture_kept": float((night.mixture_probability[night.member] >= night.mixture_threshold).mean()),
            "mixture_removed": float((night.mixture_probability[~night.member] < night.mixture_threshold).mean()),
        }
        rows.append(row)
        print(
            f"seed {seed}: {row['n_members']} members, {row['n_field']} field stars above the limits | members kept "
            f"at 80 % field removed: ideal {row['ideal_kept_at_80_removed']:.0%}, pipeline "
            f"{row['pipeline_kept_at_80_removed']:.0%} | at p >= 0.5 (kept/removed): ideal "
            f"{row['ideal_kept_p05']:.0%}/{row['ideal_removed_p05']:.0%}, pipeline {row['pipeline_kept_p05']:.0%}/"
            f"{row['pipeline_removed_p05']:.0%} | pipeline sum of p {row['pipeline_sum_probability']:.0f} "
            f"for {row['n_members']} members | mixture model: {row['mixture_kept_at_80_removed']:.0%} kept at 80 % "
            f"removed ({row['mixture_exact_field_kept_at_80_removed']:.0%} with the exact field density); at its "
            f"threshold {row['mixture_kept']:.0%}/{row['mixture_removed']:.0%}",
            flush=True,
        )
    first = nights[args.seeds[0]]
    upper_ms = {
        "depth_mag": imaging["distance"]["upper_ms_depth_mag"],
        "intrinsic_hk": imaging["distance"]["upper_ms_intrinsic_hk"],
        "boundary_hk": first.red_sequence_boundary_hk,
    }
    distance = distance_limits(
        classifier,
        spec,
        args.clusters,
        reference_dir,
        simulation.ak_per_ehk,
        errors,
        (first.limit_h, first.limit_k),
        upper_ms,
    )
    print(
        f"{args.clusters} simulated clusters: true K10 scatters by {distance['true_k10_std']:.2f} mag about the B0V "
        f"value {distance['k10_nominal']:.2f} (B0V distance from the true K10 within 15 % of the injected one: "
        f"{distance['true_within_15_percent']:.0%}); K10 from ideal posteriors - true K10: median "
        f"{distance['ideal_k10_minus_true_median']:+.2f}, std {distance['ideal_k10_minus_true_std']:.2f} mag "
        f"(distance within 15 %: {distance['ideal_within_15_percent']:.0%})"
    )
    for name, what in (("counted", "red stars"), ("weighted", "red stars weighted by the King profile")):
        print(
            f"K10 counting {what} against the exactly known field - true K10: median "
            f"{distance[f'{name}_k10_minus_true_median']:+.2f}, std {distance[f'{name}_k10_minus_true_std']:.2f} mag "
            f"(distance within 15 %: {distance[f'{name}_within_15_percent']:.0%})"
        )
    print(
        f"E(H-K) of the upper main sequence (injected {distance['e_hk_injected']}): from the true members "
        f"{distance['true_e_hk_median']:.3f} +- {distance['true_e_hk_std']:.3f} (within 0.1 mag: "
        f"{distance['true_e_hk_within_0.1']:.0%}), from ideal posteriors {distance['ideal_e_hk_median']:.3f} +- "
        f"{distance['ideal_e_hk_std']:.3f} (within 0.1 mag: {distance['ideal_e_hk_within_0.1']:.0%})"
    )
    table = Table(rows)
    table.meta.update(
        {
            "realisations": args.realisations,
            "kde_bandwidth": KDE_BANDWIDTH,
            "clusters": args.clusters,
            "distance": distance,
        }
    )
    table.write(OUT / "object11_limits.ecsv", format="ascii.ecsv", overwrite=True)


if __name__ == "__main__":
    main()
