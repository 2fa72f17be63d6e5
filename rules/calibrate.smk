"""Photometric calibration: standards, calibrated catalogues, the 2MASS comparison."""


rule imaging_standards:
    input:
        frames="results/imaging/{night}/frames.ecsv",
        masters="results/imaging/{night}/masters",
        standards_catalogue=REFERENCE_TABLES["standards"],
    output:
        calibration="results/imaging/{night}/calibration.json",
        measurements="results/imaging/{night}/standards.ecsv",
        table=report(
            "results/imaging/{night}/calibration_table.csv",
            caption="../report/imaging/calibration_table.rst",
            category="Imaging",
        ),
    log:
        "results/logs/imaging/{night}/standards.log",
    benchmark:
        "results/benchmarks/imaging/{night}/standards.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        calibration=STANDARDS_SETTINGS,
        gain=IMAGING["reduction"]["gain"],
        linearity=IMAGING["reduction"]["linearity_coefficients"],
        crosstalk=IMAGING["reduction"]["row_crosstalk"],
        detector={
            "gain": IMAGING["reduction"]["gain"],
            "read_noise": IMAGING["reduction"]["read_noise"],
            "saturation": IMAGING["reduction"]["saturation_adu"],
        },
    script:
        "../scripts/imaging/standards.py"


rule imaging_calibrate:
    input:
        catalog_h="results/imaging/{night}/{field}/H/catalog.ecsv",
        catalog_k="results/imaging/{night}/{field}/Ks/catalog.ecsv",
        calibration="results/imaging/{night}/calibration.json",
    output:
        catalog="results/imaging/{night}/{field}/catalog.ecsv",
    log:
        "results/logs/imaging/{night}/{field}_calibrate.log",
    benchmark:
        "results/benchmarks/imaging/{night}/{field}_calibrate.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        calibration=FIELD_CALIBRATION_SETTINGS,
    script:
        "../scripts/imaging/calibrate_field.py"


rule imaging_compare_reference:
    input:
        catalog="results/imaging/{night}/{field}/catalog.ecsv",
        reference=user_supplied(
            IMAGING["reference_catalogue"],
            "2MASS-like reference catalogue",
            "reference_catalogue",
        ),
    output:
        comparison="results/imaging/{night}/{field}/reference_comparison.json",
        figure=report(
            "results/figures/imaging/{night}/{field}/fig6_2mass_comparison.png",
            caption="../report/imaging/fig6_2mass_comparison.rst",
            category="Imaging",
        ),
    log:
        "results/logs/imaging/{night}/{field}_compare_reference.log",
    benchmark:
        "results/benchmarks/imaging/{night}/{field}_compare_reference.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        reference=IMAGING["calibration"]["reference"],
    script:
        "../scripts/imaging/compare_reference.py"
