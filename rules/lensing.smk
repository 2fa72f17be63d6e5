"""Lensing of massive particles in Schwarzschild spacetime (Joshi)."""


localrules:
    lensing_gather,


rule lensing_chunk:
    output:
        "results/lensing/chunks/{chunk}.ecsv",
    log:
        "results/logs/lensing/chunk_{chunk}.log",
    benchmark:
        "results/benchmarks/lensing/chunk_{chunk}.tsv"
    conda:
        "../envs/lensing.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        grid=LENSING["impact_parameter"],
        speeds=LENSING["speeds"],
        chunks=LENSING["chunks"],
        plane_distance=LENSING["plane_distance_over_mass"],
        delay_radius=LENSING["delay_radius_over_mass"],
    script:
        "../scripts/lensing/tabulate_chunk.py"


rule lensing_gather:
    input:
        expand("results/lensing/chunks/{chunk}.ecsv", chunk=LENSING_CHUNKS),
    output:
        "results/lensing/grid.ecsv",
    log:
        "results/logs/lensing/gather.log",
    conda:
        "../envs/lensing.yaml"
    script:
        "../scripts/lensing/gather.py"


rule lensing_summary:
    output:
        "results/lensing/summary.json",
    log:
        "results/logs/lensing/summary.log",
    benchmark:
        "results/benchmarks/lensing/summary.tsv"
    conda:
        "../envs/lensing.yaml"
    resources:
        mem_mb=500,
        runtime=5,
    params:
        speeds=LENSING["speeds"],
        examples=LENSING["examples"],
    script:
        "../scripts/lensing/summary.py"


rule lensing_figures:
    input:
        grid="results/lensing/grid.ecsv",
    output:
        **{
            name: report(
                f"results/figures/lensing/{name}.png",
                caption=f"../report/lensing/{name}.rst",
                category="Lensing",
            )
            for name in LENSING_FIGURES
        },
    log:
        "results/logs/lensing/figures.log",
    benchmark:
        "results/benchmarks/lensing/figures.tsv"
    conda:
        "../envs/lensing.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        massive_speed=LENSING["figures"]["massive_speed"],
    script:
        "../scripts/lensing/figures.py"
