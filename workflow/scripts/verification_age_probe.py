from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.analysis.age_probe import write_age_probe  # noqa: E402

p = snakemake.params.probe
write_age_probe(
    snakemake.input.embeddings,
    snakemake.input.manifest,
    snakemake.output.table,
    snakemake.wildcards.model,
    p["folds"],
    p["alphas"],
)
