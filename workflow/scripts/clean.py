from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.clean import run_clean  # noqa: E402

c = snakemake.params.clean
run_clean(
    snakemake.input.manifest,
    snakemake.input.inspect,
    snakemake.input.overrides[0] if snakemake.input.overrides else None,
    snakemake.output.manifest,
    snakemake.output.report,
    snakemake.output.summary,
    multi_face=c["multi_face"],
    min_images_per_person=c["min_images_per_person"],
    age_range=(c["age_min"], c["age_max"]),
    require_age=c["require_age"],
    detector_used=c["detector"] != "none",
    keep_all=snakemake.params.keep_all,
)
