from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.analysis.verification_plots import write_model_plots  # noqa: E402

i, o = snakemake.input, snakemake.output
write_model_plots(
    i.metrics, i.roc, i.ageing, i.scores, o.roc, o.ranges, o.ageing, snakemake.wildcards.model
)
