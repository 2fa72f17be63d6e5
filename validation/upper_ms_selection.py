"""Which stars the cluster reddening is measured on: a cut in K against one along the reddening vector.

The upper main sequence's median colour gives the cluster's E(H - K) (Dutra et al. 2003, section 3.3). With
the members' reddening spread by +-0.35 mag and their luminosity function rising towards the faint edge of
the range, a cut at a fixed K keeps the less reddened members to fainter intrinsic magnitudes than the more
reddened ones. This draws ``--clusters`` Object 11 clusters from the simulator's populations (default
configuration), takes the true members in the object area redder than the colour valley with their true
photometry (no measurement, no membership errors), and measures E(H - K) from their median colour down to
``upper_ms_depth_mag`` below the true K10, once with the cut in K and once with the pipeline's box along
the reddening vector (:func:`astropipe.distance.reddening.upper_main_sequence_reddening`).

Run: python validation/upper_ms_selection.py [--clusters 300]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml
from snakemake.utils import validate

from astropipe.distance.reddening import upper_main_sequence_box, upper_main_sequence_reddening
from astropipe.simulate.night import NightSimulation
from astropipe.simulate.scene import build_scene
from astropipe.stellar.main_sequence import UpperMainSequence

REPO = Path(__file__).resolve().parents[1]
CLUSTER_SEED = 9_000_000  # apart from the nights' seeds and from object11_limits.py's
COLOUR_VALLEY_HK = 0.53  # mag: the blue/red valley the default night's CMD finds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=300)
    args = parser.parse_args()
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "schemas" / "config.schema.yaml"), set_default=True)
    imaging = config["imaging"]
    reference_dir = REPO / "resources" / "reference"
    simulation = NightSimulation(imaging, reference_dir)
    spec, sequence, law = simulation.object_field(), UpperMainSequence(reference_dir), simulation.ak_per_ehk
    depth, intrinsic = imaging["distance"]["upper_ms_depth_mag"], imaging["distance"]["upper_ms_intrinsic_hk"]
    radius = imaging["cmd"]["object_radius_arcsec"]
    e_hk = {"cut in K": [], "along the reddening vector": []}
    for i in range(args.clusters):
        scene = build_scene(spec, np.random.default_rng(CLUSTER_SEED + i), sequence, str(reference_dir), law)
        stars = scene.stars
        members = np.asarray(stars["member"]) & (np.hypot(stars["xi"], stars["eta"]) < radius)
        k, hk = np.asarray(stars["K"])[members], np.asarray(stars["H"] - stars["K"])[members]
        faint_k = scene.meta["cluster"]["k10"] + depth
        in_k = upper_main_sequence_box(k, hk, faint_k, COLOUR_VALLEY_HK, law=0.0, reference_hk=0.0)
        e_hk["cut in K"].append(np.median(hk[in_k]) - intrinsic)
        upper = upper_main_sequence_reddening(
            k,
            hk,
            np.zeros(k.size),
            np.ones(k.size),
            faint_k=faint_k,
            boundary=COLOUR_VALLEY_HK,
            law=law,
            intrinsic_hk=intrinsic,
        )
        e_hk["along the reddening vector"].append(upper.cluster.e_hk)
    injected = spec.cluster.e_hk
    for name, measured in e_hk.items():
        values = np.asarray(measured)
        print(
            f"{name}: E(H-K) {values.mean():.3f} +- {values.std():.3f} (injected {injected}), within 0.1 mag on "
            f"{np.mean(np.abs(values - injected) <= 0.1):.0%} of {args.clusters} clusters"
        )


if __name__ == "__main__":
    main()
