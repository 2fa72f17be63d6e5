"""The candidate survey on several simulated nights: how often is a field's class right?

The survey's decision list (``imaging.survey_analysis.classification``: nebulosity, overdensity and
star-count-deficit significances, the central-light p-value) was set with the default night's 20 fields
in view. This runs the survey alone (``imaging.survey.n_fields`` fields, the default 20; Object 11 is
not reduced) once per simulation seed, each in its own directory under
``results/validation/survey/``, and compares every field's class with the simulator's: each seed draws
its own positions, classes and stars. Prints one line per night and per misclassified field (with the
evidence it was decided on), the summed confusion matrix, and writes
``results/validation/survey_nights.ecsv`` (one row per field and night).

About 11 minutes per night with ``--cores 2`` (96 min for the eight held-out and fresh nights, 2026-12-06); a night
already run is only brought up to date.

The held-out and fresh seeds are those of ``object11_nights.py``: no survey threshold was chosen on them.

Run: python validation/survey_nights.py [--seeds 404 505 606 707 808 909 1010 1111] [--cores 2]
[--forcerun imaging_photometry]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml
from astropy.table import Table, vstack

from astropipe.survey.classify import CLASSES, confusion_matrix

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when loaded as a module (the tests do)
from object11_nights import add_night_arguments  # the same nights: no survey threshold was chosen on them
from workflow_runs import REPO, run_workflow

OUT = REPO / "results" / "validation"


def run_survey(seed: int, cores: int, forcerun: Sequence[str] = ()) -> Table:
    """The survey's classification of one simulated night (``classification.ecsv``, with the true classes);
    ``forcerun`` as :func:`workflow_runs.run_workflow`."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["imaging"]["seed"] = seed
    target = f"results/survey/{config['imaging']['night']}/classification.ecsv"
    results = run_workflow(OUT / "survey" / f"seed{seed}", config, [target], cores, forcerun)
    table = Table.read(results.parent / target, format="ascii.ecsv")
    table.add_column(np.full(len(table), seed), name="seed", index=0)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_night_arguments(parser)
    args = parser.parse_args()
    nights = []
    for seed in args.seeds:
        table = run_survey(seed, args.cores, args.forcerun)
        wrong = table[table["class"] != table["true_class"]]
        print(f"seed {seed}: {len(table) - len(wrong)} of {len(table)} fields agree with the truth", flush=True)
        for row in wrong:
            print(f"  {row['field']}: {row['true_class']} taken for {row['class']} ({row['evidence']})", flush=True)
        nights.append(table)
    fields = vstack(nights)
    agree = np.asarray(fields["class"] == fields["true_class"])
    print(f"{len(nights)} nights: {agree.sum()} of {agree.size} fields agree ({agree.mean():.0%})")
    matrix = confusion_matrix(list(fields["true_class"]), list(fields["class"]))
    print("confusion matrix (rows: true class; columns: " + ", ".join(CLASSES) + ")")
    for row in matrix:
        print(f"  {row['true_class']:>18}: " + " ".join(f"{row[c]:3d}" for c in CLASSES))
    fields.write(OUT / "survey_nights.ecsv", format="ascii.ecsv", overwrite=True)


if __name__ == "__main__":
    main()
