from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

p = snakemake.params
out_pairs = dict(zip(p.names, snakemake.output.pairs, strict=True))
steps.protocol_manifest(
    p.protocols, p.shards, snakemake.output.manifest, snakemake.output.rejects, out_pairs
)
