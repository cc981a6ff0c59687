from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

p = snakemake.params
steps.inspect_shard(
    snakemake.input[0],
    int(snakemake.wildcards.shard),
    p.detector,
    p.upsample,
    p.max_side,
    snakemake.output[0],
)
