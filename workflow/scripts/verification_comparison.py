from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.analysis.comparison import write_comparison  # noqa: E402
from faceage.analysis.verification_plots import write_comparison_plot  # noqa: E402

i = snakemake.input
write_comparison(i.metrics, snakemake.output.table, i.ageing, i.probe)
write_comparison_plot(i.metrics, snakemake.output.plot, title=snakemake.params.title)
