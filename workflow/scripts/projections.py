from faceage.logs import log_to

log_to(snakemake.log[0])
from threadpoolctl import threadpool_limits  # noqa: E402

from faceage import steps  # noqa: E402

with threadpool_limits(snakemake.threads):  # t-SNE's gradient runs on all of them
    steps.projections(
        snakemake.input.embeddings,
        snakemake.input.manifest,
        snakemake.wildcards.model,
        snakemake.params.bins,
        snakemake.params.analysis,
        snakemake.output.table,
        snakemake.output.plot,
    )
