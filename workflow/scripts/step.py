# The one script of every in-process rule: run the step registered under the rule's name
# (faceage.steps), with the rule's named input, output, params.settings and wildcards.
from faceage.steps import run_snakemake

run_snakemake(snakemake)  # noqa: F821 - Snakemake's script object
