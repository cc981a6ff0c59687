from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

i, o, entry = snakemake.input, snakemake.output, snakemake.params.entry
steps.protocol_evaluation(
    i.pairs,
    i.embeddings,
    i.manifest,
    entry.name,
    entry.format,
    snakemake.wildcards.model,
    o.summary,
    o.folds,
    o.pairs,
)
