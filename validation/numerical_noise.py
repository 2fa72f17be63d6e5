"""How far a night's numbers move when its frames change by far less than their noise.

Runs the workflow up to Object 11's summary on the night of ``config.yaml`` three times: as configured, and with
the reduction's row cross-talk coefficient 1 % lower and 1 % higher (the raw frames are the same). The change is
far below the noise: a pedestal of ~0.6 ADU in each raw frame that the sky subtraction removes, and rows'
offsets of 0.001 adu/s in the stacks; the stacks' pixels differ by 0.001 adu/s in the median (0.2 % of the pixel
noise), by more than 0.03 adu/s on 2 % of them: on stars, by 1.5e-4 of their level, as the frames' flux scales
moved by a few 1e-4. A statistic whose estimate is smooth in its data moves by a small fraction of its error;
one that keeps or drops stars by a threshold can move by its whole error. Prints, per band, the photometry's
FWHM and the frames' flux scales, and for Object 11 the stars catalogued in its object area, E(H-K), K10, the
B0V distance and the mixture's members, each as the three runs' values and their spread in units of the quoted
error; writes ``results/validation/numerical_noise.ecsv``.

About 4 minutes per run with ``--cores 2`` (each run simulates the same raw frames: the seed is the same); a
run already made is only brought up to date.

Run: python validation/numerical_noise.py [--cores 2]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when loaded as a module (the tests do)
from object11_nights import OUT, compare
from workflow_runs import run_workflow, validated_config

FACTORS = (1.0, 0.99, 1.01)
BANDS = ("H", "Ks")


def run_perturbed(config: dict, factor: float, cores: int) -> Path:
    """The workflow up to Object 11's summary with the reduction's cross-talk coefficient times ``factor``;
    returns its results directory."""
    config = copy.deepcopy(config)
    imaging = config["imaging"]
    imaging["survey"]["n_fields"] = 0
    imaging["reduction"]["row_crosstalk"] *= factor
    night, field = imaging["night"], imaging["object"]["name"]
    targets = [f"results/imaging/{night}/{field}/summary.json", f"results/truth/{night}/stars.ecsv"]
    return run_workflow(OUT / f"seed{imaging['seed']}_numerical_noise_{factor:g}", config, targets, cores)


def night_numbers(results: Path, imaging: dict) -> dict[str, float]:
    """One run's FWHM and flux scales per band, and Object 11's results against the truth (``compare``)."""
    night, field = imaging["night"], imaging["object"]["name"]
    numbers = compare(results, night, imaging["distance"])
    for band in BANDS:
        folder = results / "imaging" / night / field / band
        numbers[f"fwhm_px_{band}"] = float(fits.getheader(folder / "psf.fits")["FWHMPX"])
        offsets = Table.read(folder / "offsets.ecsv", format="ascii.ecsv")
        for k, (scale, err) in enumerate(zip(offsets["flux_scale"], offsets["flux_scale_err"], strict=True)):
            numbers[f"flux_scale_{band}_{k}"], numbers[f"flux_scale_{band}_{k}_err"] = float(scale), float(err)
    members = Table.read(results / "imaging" / night / field / "membership.ecsv", format="ascii.ecsv")
    numbers["object_area_stars"] = float(len(members))
    mixture = json.loads((results / "imaging" / night / field / "decontamination.json").read_text())["mixture"]
    numbers["mixture_members"], numbers["mixture_members_err"] = mixture["n_members"], mixture["n_members_err"]
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    config = validated_config()
    rows = [
        {"factor": factor} | night_numbers(run_perturbed(config, factor, args.cores), config["imaging"])
        for factor in FACTORS
    ]
    table = Table(rows)
    quantities = [(f"fwhm_px_{band}", None) for band in BANDS]
    quantities += [
        (name, f"{name}_err") for name in table.colnames if name.startswith("flux_scale_") and not name.endswith("_err")
    ]
    quantities += [
        ("object_area_stars", None),
        ("e_hk", "e_hk_err"),
        ("k10", "k10_err"),
        ("d_b0v_kpc", "d_b0v_err_kpc"),
    ]
    quantities += [("mixture_members", "mixture_members_err")]
    for name, error in quantities:
        values = np.asarray(table[name], float)
        spread = np.ptp(values)
        relative = f", {spread / np.max(table[error]):.2f} of its error" if error else ""
        print(f"{name}: {np.round(values, 4).tolist()}; spread {spread:.4g}{relative}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    table.write(OUT / "numerical_noise.ecsv", format="ascii.ecsv", overwrite=True)


if __name__ == "__main__":
    main()
