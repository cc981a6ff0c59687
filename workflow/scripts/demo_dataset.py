from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage import steps  # noqa: E402

d = snakemake.params.demo
steps.demo_dataset(snakemake.output[0], d["persons"], d["images_per_person"], d["size"], d["seed"])
