from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.attributes.evaluation import run_evaluate  # noqa: E402

a = snakemake.params.attributes
b = a["balance"]
run_evaluate(
    snakemake.input.predictions,
    snakemake.input.timing,
    snakemake.wildcards.estimator,
    snakemake.output.age,
    snakemake.output.gender,
    snakemake.output.confusion,
    snakemake.output.summary,
    age_bins=a["age_bins"],
    age_min=b["age_min"],
    age_max=b["age_max"],
    cap_per_bin=b["cap_per_bin"],
    seed=b["seed"],
    cs=a["cs_threshold"],
)
