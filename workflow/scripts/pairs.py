from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

c = snakemake.params.comparisons
steps.pairs(
    snakemake.input[0],
    c["age_bins"],
    c["impostors"],
    c["impostor_ratio"],
    c["seed"],
    snakemake.output.pairs,
    snakemake.output.summary,
    folds=c["folds"],
)
