from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.analysis.protocols import write_protocol_evaluation  # noqa: E402

p = snakemake.params.protocol
write_protocol_evaluation(snakemake.input.protocol, p["format"], snakemake.input.embeddings,
                          snakemake.output.folds, snakemake.output.summary, name=snakemake.params.name,
                          model=snakemake.wildcards.model, pairs_out=snakemake.output.pairs)  # fmt: skip
