# Stage 3 - comparisons: genuine pairs (same person) and impostor pairs
# (different persons, matched to the genuine pairs' age gaps).


rule pairs:
    input:
        manifest=f"{RESULTS}/clean/manifest.tsv",
    output:
        pairs=f"{RESULTS}/pairs.parquet",
        summary=report(
            f"{RESULTS}/pairs_by_gap.tsv",
            caption="../report/pairs_by_gap.rst",
            category="3. Comparisons",
        ),
    log:
        log_path("pairs"),
    benchmark:
        benchmark_path("pairs")
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=config["comparisons"],
    script:
        "../scripts/step.py"
