"""A sheet of two nights: each night simulated from its own seed, calibrated with its own standards, and
analysed; the survey planned only where the sheet lists survey fields.

The first night of the sheet is the CI configuration's own night (same seed), whose whole chain the
shared CI run already checks; here it runs from that run's raw frames to its calibration. The second night runs to the
decontaminated CMD: on the small test detector (74 arcsec) its draw has too few red-clump stars for the
foreground-reddening fit, which the distance step refuses by name.
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


def test_two_nights_of_a_sheet_run_end_to_end(ci_run, tmp_path):
    (tmp_path / "nights.tsv").write_text(SHEET)
    copy_products(ci_run, tmp_path, "results/raw/2002-07-05", "results/truth/2002-07-05")
    config = yaml.safe_load(CI_CONFIG.read_text())
    config["imaging"]["sheet"] = "nights.tsv"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    targets = [
        "results/imaging/2002-07-05/calibration.json",
        "results/imaging/2002-07-06/object11/decontamination.json",
    ]
    arguments = ("--directory", str(tmp_path), "--configfile", str(tmp_path / "config.yaml"))
    output = run_snakemake(*targets, "--cores", "2", *arguments, timeout=1500).stderr
    simulated = {block.split("wildcards: night=")[1][:10] for block in output.split("rule simulate_sequence:")[1:]}
    assert simulated == {"2002-07-06"}  # the first night's frames are the CI run's, the second's are drawn here
    calibrations = [
        json.loads((tmp_path / f"results/imaging/{night}/calibration.json").read_text())
        for night in ("2002-07-05", "2002-07-06")
    ]
    assert [c["night"] for c in calibrations] == ["2002-07-05", "2002-07-06"]
    assert calibrations[0]["bands"]["Ks"]["zero_point_mag"] != calibrations[1]["bands"]["Ks"]["zero_point_mag"]
    assert not (tmp_path / "results/raw/2002-07-06/cand01").exists()  # not in the sheet for that night
    planned = run_snakemake("-n", *arguments).stdout
    assert "results/survey/2002-07-05/classification.json" in planned
    assert "results/imaging/2002-07-05/object11/summary.json" in planned
    assert "results/survey/2002-07-06" not in planned
