from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.datasets.download import fetch_fgnet  # noqa: E402

fetch_fgnet(snakemake.output[0], snakemake.params.url)
