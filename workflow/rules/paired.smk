# Stage 8 - comparing models: every model on the pairs all models scored
# (rule common_pairs), one rule per analysis, each with its own draws: paired
# differences, FNMR at fixed FMR, failure to enrol, the split by gender. Only
# with two models or more in the default target. Conventions: docs/verification.md,
# "Comparing models".


rule paired_differences:
    input:
        scores=score_files,
        operating=operating_score_files,
        common=f"{VER}/paired/common_pairs.tsv",
    output:
        per_model=f"{VER}/paired/per_model.tsv",
        differences=report(
            f"{VER}/paired/differences.tsv",
            caption="../report/paired_differences.rst",
            category="6. Verification",
            subcategory="{dataset}: paired comparison",
            labels={"figure": "paired differences (table)"},
        ),
        forest=report(
            f"{VER}/paired/forest_auc.png",
            caption="../report/paired_forest.rst",
            category="6. Verification",
            subcategory="{dataset}: paired comparison",
            labels={"figure": "AUC differences per gap (forest)"},
        ),
    log:
        log_path("paired_differences"),
    benchmark:
        benchmark_path("paired_differences")
    retries: RETRIES
    conda:
        "../../envs/core.yaml"
    resources:
        mem_mb=per_attempt(16000),
        runtime=per_attempt(60),
    params:
        settings=per_dataset(
            lambda c: pick(
                c["verification"],
                "gap_bins",
                "fmr_levels",
                "impostors",
                "bootstrap_iterations",
                "seed",
                models=dataset_models(c),
            )
        ),
    script:
        "../scripts/step.py"


rule paired_fnmr:
    input:
        scores=score_files,
        operating=operating_score_files,
        common=f"{VER}/paired/common_pairs.tsv",
    output:
        fnmr=f"{VER}/paired/fnmr.tsv",
        fnmr_by_year=f"{VER}/paired/fnmr_by_year.tsv",
        fnmr_plot=report(
            f"{VER}/paired/fnmr_by_gap.png",
            caption="../report/paired_fnmr.rst",
            category="6. Verification",
            subcategory="{dataset}: paired comparison",
            labels={"figure": "FNMR at a deployed threshold"},
        ),
        fnmr_year_plot=report(
            f"{VER}/paired/fnmr_by_year.png",
            caption="../report/paired_fnmr_year.rst",
            category="6. Verification",
            subcategory="{dataset}: paired comparison",
            labels={"figure": "FNMR per year of gap"},
        ),
    log:
        log_path("paired_fnmr"),
    benchmark:
        benchmark_path("paired_fnmr")
    retries: RETRIES
    conda:
        "../../envs/core.yaml"
    resources:
        mem_mb=per_attempt(16000),
        runtime=per_attempt(60),
    params:
        settings=per_dataset(
            lambda c: pick(
                c["verification"],
                "gap_bins",
                "fmr_levels",
                "min_year_pairs",
                "bootstrap_iterations",
                "seed",
                models=dataset_models(c),
            )
        ),
    script:
        "../scripts/step.py"


rule paired_failure_to_enrol:
    input:
        embeddings=embedding_files,
        manifest=f"{RESULTS}/clean/manifest.tsv",
    output:
        table=f"{VER}/paired/failure_to_enrol.tsv",
        plot=report(
            f"{VER}/paired/failure_to_enrol.png",
            caption="../report/paired_fte.rst",
            category="6. Verification",
            subcategory="{dataset}: paired comparison",
            labels={"figure": "failure to enrol by age"},
        ),
    log:
        log_path("paired_failure_to_enrol"),
    benchmark:
        benchmark_path("paired_failure_to_enrol")
    retries: RETRIES
    conda:
        "../../envs/core.yaml"
    resources:
        mem_mb=per_attempt(8000),
        runtime=per_attempt(20),
    params:
        settings=per_dataset(
            lambda c: pick(c["comparisons"], "age_bins", models=vector_models(c))
        ),
    script:
        "../scripts/step.py"


rule paired_by_gender:
    input:
        scores=score_files,
        manifest=f"{RESULTS}/clean/manifest.tsv",
        common=f"{VER}/paired/common_pairs.tsv",
    output:
        table=f"{VER}/paired/by_gender.tsv",
        groups=f"{VER}/paired/gender_groups.tsv",
    log:
        log_path("paired_by_gender"),
    benchmark:
        benchmark_path("paired_by_gender")
    retries: RETRIES
    conda:
        "../../envs/core.yaml"
    resources:
        mem_mb=per_attempt(16000),
        runtime=per_attempt(60),
    params:
        settings=per_dataset(
            lambda c: pick(
                c["verification"],
                "gap_bins",
                "fmr_levels",
                "impostors",
                "bootstrap_iterations",
                "seed",
                paired={
                    "min_gender_persons": c["verification"]["paired"][
                        "min_gender_persons"
                    ]
                },
                models=dataset_models(c),
            )
        ),
    script:
        "../scripts/step.py"
