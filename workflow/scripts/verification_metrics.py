from faceage.logs import log_to

log_to(snakemake.log[0])
from faceage.analysis.verification import write_verification  # noqa: E402

p = snakemake.params.verification
write_verification(
    snakemake.input.scores,
    snakemake.output.metrics,
    snakemake.output.roc,
    snakemake.output.conventions,
    p["gap_bins"],
    p["far_levels"],
    p["impostors"],
    p["bootstrap_iterations"],
    p["seed"],
    p["folds"],
    p["balance_accuracy"],
    model=snakemake.wildcards.model,
    min_accuracy_pairs=p["min_accuracy_pairs"],
)
