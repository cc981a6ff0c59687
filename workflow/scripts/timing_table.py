from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.analysis.timing import write_timing  # noqa: E402

write_timing(
    snakemake.input.benchmarks,
    snakemake.params.dataset,
    snakemake.input.manifest,
    snakemake.output[0],
)
