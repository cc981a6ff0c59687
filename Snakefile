# Face-Age-Invariant: how well face-recognition models recognise the same
# person across age. Stages, in order: dataset -> clean -> comparisons ->
# embeddings -> scores -> similarity -> verification (and attributes).
# Configuration: config/README.md. Layout: docs/architecture.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/config.smk"
include: "workflow/rules/envs.smk"
include: "workflow/rules/paths.smk"
include: "workflow/rules/resources.smk"
include: "workflow/rules/dataset.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/comparisons.smk"
include: "workflow/rules/embeddings.smk"
include: "workflow/rules/weights.smk"
include: "workflow/rules/scores.smk"
include: "workflow/rules/similarity.smk"
include: "workflow/rules/timing.smk"
include: "workflow/rules/verification.smk"
include: "workflow/rules/attributes.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
    localrule: True
