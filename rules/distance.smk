"""Reddening and tenth-brightest-star distances of the object."""


rule imaging_distance:
    input:
        stars="results/imaging/{night}/{field}/cmd_stars.ecsv",
        membership="results/imaging/{night}/{field}/membership.ecsv",
        cmd_summary="results/imaging/{night}/{field}/cmd.json",
        decontamination="results/imaging/{night}/{field}/decontamination.json",
        dwarfs=REFERENCE_TABLES["dwarfs"],
        upper_main_sequence=REFERENCE_TABLES["upper_main_sequence"],
    output:
        summary="results/imaging/{night}/{field}/summary.json",
        table=report(
            "results/imaging/{night}/{field}/distance_table.csv",
            caption="../report/imaging/distance_table.rst",
            category="Imaging",
        ),
        figure=report(
            "results/figures/imaging/{night}/{field}/fig10_main_sequence.png",
            caption="../report/imaging/fig10_main_sequence.rst",
            category="Imaging",
        ),
    log:
        "results/logs/imaging/{night}/{field}_distance.log",
    benchmark:
        "results/benchmarks/imaging/{night}/{field}_distance.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        distance=IMAGING["distance"],
        law=IMAGING["extinction_law_ak_per_ehk"],
    script:
        "../scripts/imaging/distance.py"
