from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.attributes.flags import run_flags  # noqa: E402

run_flags(
    snakemake.input.predictions,
    snakemake.input.manifest,
    snakemake.input.overrides[0] if snakemake.input.overrides else None,
    snakemake.wildcards.estimator,
    snakemake.output.flags,
    snakemake.output.review,
    **snakemake.params.flags,
)
