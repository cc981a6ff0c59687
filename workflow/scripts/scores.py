from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

steps.score(snakemake.input.pairs, snakemake.input.embeddings, snakemake.output[0])
