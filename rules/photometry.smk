"""PSF photometry of each stack and its artificial-star tests."""


rule imaging_photometry:
    input:
        image="results/imaging/{night}/{field}/{filter}/stack.fits",
        weight="results/imaging/{night}/{field}/{filter}/weight.fits",
    output:
        catalog="results/imaging/{night}/{field}/{filter}/catalog.ecsv",
        psf="results/imaging/{night}/{field}/{filter}/psf.fits",
        residual="results/imaging/{night}/{field}/{filter}/residual.fits",
    log:
        "results/logs/imaging/{night}/{field}_{filter}_photometry.log",
    benchmark:
        "results/benchmarks/imaging/{night}/{field}_{filter}_photometry.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        # stack + exposure map: 8 MB for 1024 x 1024
        mem_mb=scaled_by_input(1000, 60),
        runtime=scaled_by_input(5, 1.25),
    params:
        photometry=PHOTOMETRY,
        image={},
    script:
        "../scripts/imaging/photometry.py"


rule imaging_photometry_reduced_image:
    input:
        unpack(reduced_image_inputs),
    output:
        catalog="results/imaging/reduced/{image}/catalog.ecsv",
        psf="results/imaging/reduced/{image}/psf.fits",
        residual="results/imaging/reduced/{image}/residual.fits",
    log:
        "results/logs/imaging/reduced/{image}_photometry.log",
    benchmark:
        "results/benchmarks/imaging/reduced/{image}_photometry.tsv"
    wildcard_constraints:
        image=REDUCED_IMAGE_NAMES,
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=scaled_by_input(1000, 60),
        runtime=scaled_by_input(5, 1.25),
    params:
        photometry=lambda wildcards: {
            **PHOTOMETRY,
            **REDUCED_IMAGES[wildcards.image]["photometry"],
        },
        image=lambda wildcards: REDUCED_IMAGE_SETTINGS[wildcards.image],
    script:
        "../scripts/imaging/photometry.py"


rule imaging_completeness:
    input:
        stack="results/imaging/{night}/{field}/{filter}/stack.fits",
        weight="results/imaging/{night}/{field}/{filter}/weight.fits",
        psf="results/imaging/{night}/{field}/{filter}/psf.fits",
        catalog="results/imaging/{night}/{field}/{filter}/catalog.ecsv",
    output:
        completeness="results/imaging/{night}/{field}/{filter}/completeness.ecsv",
        injected="results/imaging/{night}/{field}/{filter}/artificial_stars.ecsv",
    log:
        "results/logs/imaging/{night}/{field}_{filter}_completeness.log",
    benchmark:
        "results/benchmarks/imaging/{night}/{field}_{filter}_completeness.tsv"
    conda:
        "../envs/imaging.yaml"
    resources:
        mem_mb=scaled_by_input(1000, 60),
        runtime=scaled_by_input(10, 2.5),
    params:
        photometry=IMAGING["photometry"],
        seed=IMAGING["seed"],
    script:
        "../scripts/imaging/completeness.py"
