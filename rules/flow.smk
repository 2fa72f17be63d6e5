"""The flow branch: simulated FP survey, bulk-flow fit, resampling."""


localrules:
    flow_resample_gather,
    flow_recovery_gather,


rule flow_simulate_survey:
    output:
        clusters="results/flow/{survey}/input/clusters.ecsv",
        galaxies="results/flow/{survey}/input/galaxies.ecsv",
        dispersions="results/flow/{survey}/input/dispersions.ecsv",
        truth="results/truth/flow/{survey}.json",
    log:
        "results/logs/flow/{survey}/simulate.log",
    wildcard_constraints:
        survey=SIMULATED_SURVEY,
    conda:
        "../envs/flow.yaml"
    resources:
        mem_mb=500,
        runtime=5,
    params:
        simulation=FLOW["simulation"],
        seed=FLOW["seed"],
    script:
        "../scripts/flow/simulate_survey.py"


rule flow_import_survey:
    input:
        unpack(flow_input_tables),
    output:
        clusters="results/flow/{survey}/input/clusters.ecsv",
        galaxies="results/flow/{survey}/input/galaxies.ecsv",
        dispersions="results/flow/{survey}/input/dispersions.ecsv",
    log:
        "results/logs/flow/{survey}/import.log",
    wildcard_constraints:
        survey=IMPORTED_SURVEY,
    conda:
        "../envs/flow.yaml"
    resources:
        mem_mb=500,
        runtime=5,
    params:
        directory=FLOW_INPUT_DIRECTORY,
        extinction_map=FLOW["extinction_map"],
    script:
        "../scripts/flow/import_survey.py"


rule flow_fit:
    input:
        clusters="results/flow/{survey}/input/clusters.ecsv",
        galaxies="results/flow/{survey}/input/galaxies.ecsv",
        dispersions="results/flow/{survey}/input/dispersions.ecsv",
    output:
        clusters="results/flow/{survey}/clusters.ecsv",
        bulkflow="results/flow/{survey}/bulkflow.json",
    log:
        "results/logs/flow/{survey}/fit.log",
    benchmark:
        "results/benchmarks/flow/{survey}/fit.tsv"
    wildcard_constraints:
        survey=re.escape(FLOW_SURVEY),
    conda:
        "../envs/flow.yaml"
    resources:
        mem_mb=500,
        runtime=5,
    params:
        analysis=FLOW_ANALYSIS,
    script:
        "../scripts/flow/fit.py"


rule flow_resample:
    input:
        clusters="results/flow/{survey}/input/clusters.ecsv",
        galaxies="results/flow/{survey}/input/galaxies.ecsv",
        dispersions="results/flow/{survey}/input/dispersions.ecsv",
    output:
        "results/flow/{survey}/resample/{chunk}.ecsv",
    log:
        "results/logs/flow/{survey}/resample_{chunk}.log",
    benchmark:
        "results/benchmarks/flow/{survey}/resample_{chunk}.tsv"
    wildcard_constraints:
        survey=re.escape(FLOW_SURVEY),
    conda:
        "../envs/flow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        analysis=FLOW_ANALYSIS,
        resampling=FLOW["resampling"],
        seed=FLOW["seed"],
    script:
        "../scripts/flow/resample.py"


rule flow_resample_gather:
    input:
        chunks=expand(
            "results/flow/{{survey}}/resample/{chunk}.ecsv", chunk=FLOW_CHUNKS
        ),
        bulkflow="results/flow/{survey}/bulkflow.json",
        clusters="results/flow/{survey}/input/clusters.ecsv",
        galaxies="results/flow/{survey}/input/galaxies.ecsv",
        dispersions="results/flow/{survey}/input/dispersions.ecsv",
    output:
        "results/flow/{survey}/resampling.json",
    log:
        "results/logs/flow/{survey}/resample_gather.log",
    wildcard_constraints:
        survey=re.escape(FLOW_SURVEY),
    conda:
        "../envs/flow.yaml"
    params:
        analysis=FLOW_ANALYSIS,
    script:
        "../scripts/flow/gather.py"


rule flow_recovery:
    output:
        "results/flow/{survey}/recovery/{chunk}.ecsv",
    log:
        "results/logs/flow/{survey}/recovery_{chunk}.log",
    benchmark:
        "results/benchmarks/flow/{survey}/recovery_{chunk}.tsv"
    wildcard_constraints:
        survey=SIMULATED_SURVEY,
    conda:
        "../envs/flow.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    params:
        analysis=FLOW_ANALYSIS,
        recovery=FLOW["recovery"],
        simulation=FLOW["simulation"],
        seed=FLOW["seed"],
    script:
        "../scripts/flow/recovery.py"


rule flow_recovery_gather:
    input:
        chunks=expand(
            "results/flow/{{survey}}/recovery/{chunk}.ecsv", chunk=FLOW_RECOVERY_CHUNKS
        ),
    output:
        summary="results/flow/{survey}/recovery.json",
        figure=report(
            "results/figures/flow/{survey}/recovery_coverage.png",
            caption="../report/flow/recovery_coverage.rst",
            category="Flow",
        ),
    log:
        "results/logs/flow/{survey}/recovery_gather.log",
    wildcard_constraints:
        survey=SIMULATED_SURVEY,
    conda:
        "../envs/flow.yaml"
    script:
        "../scripts/flow/recovery_gather.py"


rule flow_figures:
    input:
        clusters="results/flow/{survey}/clusters.ecsv",
        bulkflow="results/flow/{survey}/bulkflow.json",
    output:
        **{
            name: report(
                f"results/figures/flow/{{survey}}/{name}.png",
                caption=f"../report/flow/{name}.rst",
                category="Flow",
            )
            for name in FLOW_FIGURES
        },
        table=report(
            "results/flow/{survey}/bulkflow_table.csv",
            caption="../report/flow/bulkflow_table.rst",
            category="Flow",
        ),
    log:
        "results/logs/flow/{survey}/figures.log",
    benchmark:
        "results/benchmarks/flow/{survey}/figures.tsv"
    conda:
        "../envs/flow.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        seed=FLOW["seed"],
    script:
        "../scripts/flow/figures.py"


rule flow_supernovae:
    input:
        table=SUPERNOVAE["path"] if SUPERNOVAE else [],
    output:
        clusters="results/flow/{survey}/clusters.ecsv",
        bulkflow="results/flow/{survey}/bulkflow.json",
    log:
        "results/logs/flow/{survey}/supernovae.log",
    benchmark:
        "results/benchmarks/flow/{survey}/supernovae.tsv"
    wildcard_constraints:
        survey=SUPERNOVA_SURVEY,
    conda:
        "../envs/flow.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        selection=SUPERNOVA_SELECTION,
        thermal_kms=FLOW["thermal_kms"],
    script:
        "../scripts/flow/supernovae.py"


rule flow_lcdm:
    input:
        clusters="results/flow/{survey}/clusters.ecsv",
        bulkflow="results/flow/{survey}/bulkflow.json",
    output:
        "results/flow/{survey}/lcdm.json",
    log:
        "results/logs/flow/{survey}/lcdm.log",
    benchmark:
        "results/benchmarks/flow/{survey}/lcdm.tsv"
    conda:
        "../envs/flow.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        cosmology=FLOW["lcdm_cosmology"],
        minimum_variance_radius_kms=FLOW["minimum_variance_radius_kms"],
    script:
        "../scripts/flow/lcdm.py"
