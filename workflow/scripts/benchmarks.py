from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

steps.benchmarks(list(snakemake.input), snakemake.params.protocols, snakemake.output[0])
