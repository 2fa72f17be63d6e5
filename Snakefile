"""Near-infrared cluster imaging, galaxy-cluster bulk flows and massive-particle lensing.

See README.md for the branches, the outputs and how to run on a cluster.
"""


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/lensing.smk"
include: "rules/simulate.smk"
include: "rules/reduce.smk"
include: "rules/photometry.smk"
include: "rules/calibrate.smk"
include: "rules/cmd.smk"
include: "rules/distance.smk"
include: "rules/survey.smk"
include: "rules/flow.smk"


rule all:
    default_target: True
    input:
        lensing_targets(),
        simulated_night_targets(),
        imaging_targets(),
        reduced_image_targets(),
        survey_targets(),
        flow_targets(),
