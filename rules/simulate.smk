"""The simulated SOFI night (the default data) and its truth (issue 4)."""


rule simulate_calibrations:
    output:
        directory("results/raw/{night}/calib"),
    log:
        "results/logs/simulate/{night}/calibrations.log",
    benchmark:
        "results/benchmarks/simulate/{night}/calibrations.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        kind="calibrations",
        imaging=SIMULATION,
        reference_dir=REFERENCE_DIR,
    script:
        "../scripts/simulate/frames.py"


rule simulate_standards:
    output:
        directory("results/raw/{night}/standards"),
    log:
        "results/logs/simulate/{night}/standards.log",
    benchmark:
        "results/benchmarks/simulate/{night}/standards.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        kind="standards",
        imaging=SIMULATION,
        reference_dir=REFERENCE_DIR,
    script:
        "../scripts/simulate/frames.py"


rule simulate_sequence:
    output:
        directory("results/raw/{night}/{field}/{filter}"),
    log:
        "results/logs/simulate/{night}/{field}_{filter}.log",
    benchmark:
        "results/benchmarks/simulate/{night}/{field}_{filter}.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1200 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        imaging=SIMULATION,
        reference_dir=REFERENCE_DIR,
    script:
        "../scripts/simulate/sequence.py"


rule simulate_reference_catalogue:
    output:
        "results/raw/{night}/reference/{field}_2mass.ecsv",
    log:
        "results/logs/simulate/{night}/{field}_2mass.log",
    benchmark:
        "results/benchmarks/simulate/{night}/{field}_2mass.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        imaging=SIMULATION,
        reference_dir=REFERENCE_DIR,
    script:
        "../scripts/simulate/reference_catalogue.py"


rule simulate_candidate_list:
    output:
        "results/raw/{night}/candidates.ecsv",
    log:
        "results/logs/simulate/{night}/candidates.log",
    conda:
        "../envs/imaging.yaml"
    params:
        imaging=SIMULATION,
        reference_dir=REFERENCE_DIR,
    script:
        "../scripts/simulate/candidate_list.py"


rule simulate_truth:
    output:
        stars="results/truth/{night}/stars.ecsv",
        scene="results/truth/{night}/scene.json",
        instrument="results/truth/{night}/instrument.json",
        labels="results/truth/{night}/survey_labels.ecsv",
        response="results/truth/{night}/response.fits",
    log:
        "results/logs/simulate/{night}/truth.log",
    benchmark:
        "results/benchmarks/simulate/{night}/truth.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1500 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        imaging=SIMULATION,
        reference_dir=REFERENCE_DIR,
    script:
        "../scripts/simulate/truth.py"
