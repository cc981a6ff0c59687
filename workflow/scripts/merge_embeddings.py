from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

steps.merge_embeddings(list(snakemake.input.shards), snakemake.output[0], snakemake.input.manifest)
