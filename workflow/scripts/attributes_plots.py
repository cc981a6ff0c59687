from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.attributes import get_estimator  # noqa: E402
from faceage.attributes.plots import run_plots  # noqa: E402

estimator = snakemake.wildcards.estimator
run_plots(
    snakemake.input.predictions,
    snakemake.output.joint,
    snakemake.output.distributions,
    title=f"{snakemake.params.dataset} / {estimator}",
    age_range=get_estimator(estimator).age_range,
)
