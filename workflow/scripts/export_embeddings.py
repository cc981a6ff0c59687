from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

steps.export_embeddings(snakemake.input[0], snakemake.output.vectors, snakemake.output.faces)
