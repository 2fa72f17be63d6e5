"""The simulated SOFI night (the default data) and its truth."""


rule simulate_calibrations:
    input:
        **REFERENCE_TABLES,
    output:
        directory("results/raw/{night}/calib"),
    log:
        "results/logs/simulate/{night}/calibrations.log",
    benchmark:
        "results/benchmarks/simulate/{night}/calibrations.tsv"
    wildcard_constraints:
        night=SIMULATED_NIGHT,
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        kind="calibrations",
        imaging=simulation_settings,
    script:
        "../scripts/simulate/frames.py"


rule simulate_standards:
    input:
        **REFERENCE_TABLES,
    output:
        directory("results/raw/{night}/standards"),
    log:
        "results/logs/simulate/{night}/standards.log",
    benchmark:
        "results/benchmarks/simulate/{night}/standards.tsv"
    wildcard_constraints:
        night=SIMULATED_NIGHT,
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        kind="standards",
        imaging=simulation_settings,
    script:
        "../scripts/simulate/frames.py"


rule simulate_sequence:
    input:
        **REFERENCE_TABLES,
    output:
        directory("results/raw/{night}/{field}/{filter}"),
    log:
        "results/logs/simulate/{night}/{field}_{filter}.log",
    benchmark:
        "results/benchmarks/simulate/{night}/{field}_{filter}.tsv"
    wildcard_constraints:
        night=SIMULATED_NIGHT,
        field=SIMULATED_FIELDS,
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=scaled_by_sequence(400, 12),
        runtime=scaled_by_sequence(5, 1 / 12),
    params:
        imaging=simulation_settings,
    script:
        "../scripts/simulate/sequence.py"


rule simulate_reference_catalogue:
    input:
        **REFERENCE_TABLES,
    output:
        "results/raw/{night}/reference/{field}_2mass.ecsv",
    log:
        "results/logs/simulate/{night}/{field}_2mass.log",
    benchmark:
        "results/benchmarks/simulate/{night}/{field}_2mass.tsv"
    wildcard_constraints:
        night=SIMULATED_NIGHT,
        field=SIMULATED_FIELDS,
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        imaging=simulation_settings,
    script:
        "../scripts/simulate/reference_catalogue.py"


rule simulate_candidate_list:
    input:
        **REFERENCE_TABLES,
    output:
        "results/raw/{night}/candidates.ecsv",
    log:
        "results/logs/simulate/{night}/candidates.log",
    wildcard_constraints:
        night=SIMULATED_NIGHT,
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=500,
        runtime=5,
    params:
        imaging=simulation_settings,
    script:
        "../scripts/simulate/candidate_list.py"


rule simulate_truth:
    input:
        **REFERENCE_TABLES,
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
    wildcard_constraints:
        night=SIMULATED_NIGHT,
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=lambda wildcards, attempt: 1500 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        imaging=simulation_settings,
    script:
        "../scripts/simulate/truth.py"
