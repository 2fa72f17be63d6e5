"""Reduction: ingest the raw night, master calibrations, one stack per field and filter."""


rule imaging_ingest:
    input:
        raw_night_inputs,
    output:
        "results/imaging/{night}/frames.ecsv",
    log:
        "results/logs/imaging/{night}/ingest.log",
    benchmark:
        "results/benchmarks/imaging/{night}/ingest.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        field_names=IMAGING["field_names"],
    script:
        "../scripts/imaging/ingest.py"


rule imaging_masters:
    input:
        frames="results/imaging/{night}/frames.ecsv",
    output:
        directory("results/imaging/{night}/masters"),
    log:
        "results/logs/imaging/{night}/masters.log",
    benchmark:
        "results/benchmarks/imaging/{night}/masters.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        aperture_radius_arcsec=5.0 * IMAGING["photometry"]["fwhm_guess_arcsec"],
        linearity=IMAGING["reduction"]["linearity_coefficients"],
        crosstalk=IMAGING["reduction"]["row_crosstalk"],
        detector={
            "gain": IMAGING["reduction"]["gain"],
            "read_noise": IMAGING["reduction"]["read_noise"],
            "saturation": IMAGING["reduction"]["saturation_adu"],
        },
    script:
        "../scripts/imaging/masters.py"


rule imaging_reduce:
    input:
        frames="results/imaging/{night}/frames.ecsv",
        masters="results/imaging/{night}/masters",
        reference=user_supplied(
            IMAGING["reference_catalogue"],
            "2MASS-like reference catalogue",
            "reference_catalogue",
        ),
    output:
        stack="results/imaging/{night}/{field}/{filter}/stack.fits",
        weight="results/imaging/{night}/{field}/{filter}/weight.fits",
        offsets="results/imaging/{night}/{field}/{filter}/offsets.ecsv",
        astrometry="results/imaging/{night}/{field}/{filter}/astrometry.json",
    log:
        "results/logs/imaging/{night}/{field}_{filter}_reduce.log",
    benchmark:
        "results/benchmarks/imaging/{night}/{field}_{filter}_reduce.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        # measured: 0.6 GB and 40 s for 15 frames of 1024 x 1024 (60 MB)
        mem_mb=scaled_by_sequence(500, 12),
        runtime=scaled_by_sequence(5, 1 / 6),
    params:
        reduction=IMAGING["reduction"],
        astrometry={
            **IMAGING["astrometry"],
            "fwhm_arcsec": IMAGING["photometry"]["fwhm_guess_arcsec"],
        },
    script:
        "../scripts/imaging/reduce.py"
