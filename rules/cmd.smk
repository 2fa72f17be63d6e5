"""CMD analysis and statistical decontamination of the object field."""


rule imaging_cmd:
    input:
        catalog="results/imaging/{night}/{field}/catalog.ecsv",
        weight_h="results/imaging/{night}/{field}/H/weight.fits",
        weight_k="results/imaging/{night}/{field}/Ks/weight.fits",
        completeness_h="results/imaging/{night}/{field}/H/completeness.ecsv",
        completeness_k="results/imaging/{night}/{field}/Ks/completeness.ecsv",
        comparison="results/imaging/{night}/{field}/reference_comparison.json",
        reference=user_supplied(
            IMAGING["reference_catalogue"],
            "2MASS-like reference catalogue",
            "reference_catalogue",
        ),
    output:
        stars="results/imaging/{night}/{field}/cmd_stars.ecsv",
        luminosity="results/imaging/{night}/{field}/luminosity_function.ecsv",
        summary="results/imaging/{night}/{field}/cmd.json",
        fig_cmd=report(
            "results/figures/imaging/{night}/{field}/fig7_cmd.png",
            caption="../report/imaging/fig7_cmd.rst",
            category="Imaging",
        ),
        fig_lf=report(
            "results/figures/imaging/{night}/{field}/fig8_luminosity_function.png",
            caption="../report/imaging/fig8_luminosity_function.rst",
            category="Imaging",
        ),
    log:
        "results/logs/imaging/{night}/{field}_cmd.log",
    benchmark:
        "results/benchmarks/imaging/{night}/{field}_cmd.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cmd=CMD_SETTINGS,
        reference=IMAGING["calibration"]["reference"],
        centre=lambda wildcards: field_centre(wildcards.field),
        seed=IMAGING["seed"],
    script:
        "../scripts/imaging/cmd.py"


rule imaging_decontaminate:
    input:
        stars="results/imaging/{night}/{field}/cmd_stars.ecsv",
        summary="results/imaging/{night}/{field}/cmd.json",
        completeness_h="results/imaging/{night}/{field}/H/completeness.ecsv",
        completeness_k="results/imaging/{night}/{field}/Ks/completeness.ecsv",
        artificial_h="results/imaging/{night}/{field}/H/artificial_stars.ecsv",
        artificial_k="results/imaging/{night}/{field}/Ks/artificial_stars.ecsv",
    output:
        membership="results/imaging/{night}/{field}/membership.ecsv",
        summary="results/imaging/{night}/{field}/decontamination.json",
        figure=report(
            "results/figures/imaging/{night}/{field}/fig9_decontamination.png",
            caption="../report/imaging/fig9_decontamination.rst",
            category="Imaging",
        ),
    log:
        "results/logs/imaging/{night}/{field}_decontaminate.log",
    benchmark:
        "results/benchmarks/imaging/{night}/{field}_decontaminate.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        decontamination=IMAGING["cmd"]["decontamination"],
        seed=IMAGING["seed"],
        ak_per_ehk=IMAGING["extinction_law_ak_per_ehk"],
    script:
        "../scripts/imaging/decontaminate.py"
