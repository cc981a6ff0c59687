from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.analysis.ageing import write_ageing  # noqa: E402

write_ageing(snakemake.input.scores, snakemake.output.table, model=snakemake.wildcards.model)
