from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.attributes.evaluation import collect_summaries  # noqa: E402
from faceage.attributes.plots import speed_vs_mae  # noqa: E402

table = collect_summaries(list(snakemake.input), snakemake.output.table)
speed_vs_mae(
    table, snakemake.output.plot, title=f"{snakemake.params.dataset}: speed against age error"
)
