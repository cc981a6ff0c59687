from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

scores = {k: v for k, v in snakemake.input.items() if k != "by_gap"}
steps.plot_similarity(
    scores,
    snakemake.input.by_gap,
    snakemake.params.min_pairs,
    snakemake.output.by_gap,
    snakemake.output.distributions,
)
