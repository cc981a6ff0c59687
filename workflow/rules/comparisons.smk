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
            subcategory="{dataset}",
        ),
    log:
        log_path("pairs"),
    benchmark:
        benchmark_path("pairs")
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=per_dataset(
            lambda c: pick(
                c["comparisons"],
                "age_bins",
                "impostors",
                "impostor_ratio",
                "folds",
                "seed",
                "max_genuine_per_person",
            )
        ),
    script:
        "../scripts/step.py"


# The operating impostor pool: every threshold "at FMR f" is set on it (docs/verification.md).
rule operating_pairs:
    input:
        manifest=f"{RESULTS}/clean/manifest.tsv",
    output:
        pairs=f"{RESULTS}/operating_pairs.parquet",
    log:
        log_path("operating_pairs"),
    benchmark:
        benchmark_path("operating_pairs")
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=per_dataset(
            lambda c: pick(
                c["comparisons"],
                "impostors",
                "operating_impostors",
                "seed",
                "age_bins",
            )
        ),
    script:
        "../scripts/step.py"
