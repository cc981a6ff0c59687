from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

steps.projections(snakemake.input.embeddings, snakemake.input.manifest, snakemake.wildcards.model,
                  snakemake.params.bins, snakemake.params.analysis, snakemake.output.table, snakemake.output.plot)  # fmt: skip
