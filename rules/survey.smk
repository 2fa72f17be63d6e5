"""The candidate survey: per-field density and indicators, the objective classification, Fig. 5."""


rule survey_field:
    input:
        stack=f"results/imaging/{{night}}/{{field}}/{SURVEY_FILTER}/stack.fits",
        weight=f"results/imaging/{{night}}/{{field}}/{SURVEY_FILTER}/weight.fits",
        catalog=f"results/imaging/{{night}}/{{field}}/{SURVEY_FILTER}/catalog.ecsv",
        calibration="results/imaging/{night}/calibration.json",
        candidates=user_supplied(
            SURVEY_ANALYSIS["candidates"],
            "candidate list",
            "survey_analysis.candidates",
        ),
    output:
        metrics="results/survey/{night}/{field}/metrics.json",
        thumbnail=report(
            "results/figures/survey/{night}/{field}_thumbnail.png",
            caption="../report/survey/thumbnail.rst",
            category="Survey",
            subcategory="Fields",
        ),
    log:
        "results/logs/survey/{night}/{field}.log",
    benchmark:
        "results/benchmarks/survey/{night}/{field}.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        survey=SURVEY_FIELD_SETTINGS,
        band=SURVEY_FILTER,
        seed=IMAGING["seed"],
    script:
        "../scripts/survey/field.py"


rule survey_classify:
    input:
        metrics=lambda wildcards: expand(
            "results/survey/{night}/{field}/metrics.json",
            night=wildcards.night,
            field=survey_fields(wildcards.night),
        ),
        labels=survey_truth_labels,
    output:
        classification="results/survey/{night}/classification.ecsv",
        summary="results/survey/{night}/classification.json",
        table=report(
            "results/survey/{night}/classification_table.csv",
            caption="../report/survey/classification_table.rst",
            category="Survey",
        ),
        sky_map=report(
            "results/figures/survey/{night}/fig5_sky_map.png",
            caption="../report/survey/fig5_sky_map.rst",
            category="Survey",
        ),
        confusion=report(
            "results/figures/survey/{night}/confusion_matrix.png",
            caption="../report/survey/confusion_matrix.rst",
            category="Survey",
        ),
    log:
        "results/logs/survey/{night}/classify.log",
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        thresholds=SURVEY_ANALYSIS["classification"],
    script:
        "../scripts/survey/classify.py"
