"""A sheet of two nights: each night simulated from its own seed and calibrated with its own standards, its
analysis planned; the survey planned only where the sheet lists survey fields.

The first night of the sheet is the CI configuration's own night (same seed), whose whole chain the
shared CI run already checks; here it runs from that run's raw frames and master calibrations to its
calibration. The second night is simulated from its own seed (standards and object frames) and runs to its
own calibration; the analysis of each night's fields is then planned, per night, from the sheet.
"""

import json

import yaml
from conftest import CI_CONFIG, copy_products, run_snakemake

SHEET = """night\tfield\tfilter\tseed\traw_directory
2002-07-05\tobject11\tH\t7\t
2002-07-05\tobject11\tKs\t7\t
2002-07-05\tcand01\tKs\t7\t
2002-07-05\tcand02\tKs\t7\t
2002-07-06\tobject11\tH\t8\t
2002-07-06\tobject11\tKs\t8\t
"""


def _nights_of(output: str, rule: str) -> set[str]:
    """The nights of the jobs of ``rule`` in a Snakemake log."""
    return {block.split("wildcards: night=")[1][:10] for block in output.split(f"rule {rule}:")[1:]}


def test_two_nights_of_a_sheet_run_end_to_end(ci_run, tmp_path):
    (tmp_path / "nights.tsv").write_text(SHEET)
    first = "2002-07-05"
    copy_products(
        ci_run,
        tmp_path,
        *(f"results/{path}" for path in (f"raw/{first}", f"truth/{first}", f"imaging/{first}/frames.ecsv")),
        f"results/imaging/{first}/masters",
    )
    config = yaml.safe_load(CI_CONFIG.read_text())
    config["imaging"]["sheet"] = "nights.tsv"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    targets = [f"results/imaging/{night}/calibration.json" for night in ("2002-07-05", "2002-07-06")]
    arguments = ("--directory", str(tmp_path), "--configfile", str(tmp_path / "config.yaml"))
    output = run_snakemake(*targets, "--cores", "2", *arguments, timeout=1500).stderr
    # the first night's frames and masters are the CI run's, the second's are drawn and made here
    assert _nights_of(output, "simulate_sequence") == _nights_of(output, "imaging_masters") == {"2002-07-06"}
    calibrations = [
        json.loads((tmp_path / f"results/imaging/{night}/calibration.json").read_text())
        for night in ("2002-07-05", "2002-07-06")
    ]
    assert [c["night"] for c in calibrations] == ["2002-07-05", "2002-07-06"]
    assert calibrations[0]["bands"]["Ks"]["zero_point_mag"] != calibrations[1]["bands"]["Ks"]["zero_point_mag"]
    assert not (tmp_path / "results/raw/2002-07-06/cand01").exists()  # not in the sheet for that night
    planned = run_snakemake("-n", *arguments).stdout
    assert "results/survey/2002-07-05/classification.json" in planned
    for night in ("2002-07-05", "2002-07-06"):
        assert f"results/imaging/{night}/object11/summary.json" in planned
    assert "results/survey/2002-07-06" not in planned
