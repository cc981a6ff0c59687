from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

steps.manifest(
    snakemake.params.fmt,
    snakemake.input[0],
    snakemake.params.shards,
    snakemake.output.manifest,
    snakemake.output.rejects,
)
