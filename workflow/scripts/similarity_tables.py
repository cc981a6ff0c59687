from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

scores = {k: v for k, v in snakemake.input.items()}
steps.similarity_tables(
    scores,
    snakemake.params.bins,
    snakemake.output.within,
    snakemake.output.between,
    snakemake.output.by_gap,
)
