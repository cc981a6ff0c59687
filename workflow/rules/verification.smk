# Stage 7 - verification: genuine against impostor scores per age gap and age
# range (ROC, AUC, EER, FNMR at FMR, insightface 10-fold accuracy, subject-level
# bootstrap CIs), the ageing mixed model, the age probe, a model comparison,
# and, in a protocol run (dataset_format: protocol), standard benchmarks such
# as AgeDB-30 in one table. Conventions: docs/verification.md.


rule verification_metrics:
    input:
        scores=f"{RESULTS}/scores/{{model}}.parquet",
        operating=f"{RESULTS}/scores/operating/{{model}}.parquet",
    output:
        metrics=report(
            f"{VER}/{{model}}/metrics.tsv",
            caption="../report/verification_metrics.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "metrics table"},
        ),
        roc=report(
            f"{VER}/{{model}}/roc.tsv",
            caption="../report/verification_roc_table.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "ROC points (table)"},
        ),
        conventions=report(
            f"{VER}/{{model}}/conventions.json",
            caption="../report/verification_conventions.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "conventions"},
        ),
        fnmr=report(
            f"{VER}/{{model}}/fnmr.tsv",
            caption="../report/verification_fnmr.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "FNMR at fixed FMR (table)"},
        ),
        fnmr_by_year=report(
            f"{VER}/{{model}}/fnmr_by_year.tsv",
            caption="../report/verification_fnmr_by_year_table.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "FNMR per year of gap (table)"},
        ),
    log:
        log_path("verification_metrics", "{model}"),
    benchmark:
        benchmark_path("verification_metrics", "{model}")
    retries: RETRIES
    conda:
        "../../envs/core.yaml"
    resources:
        mem_mb=per_attempt(6000),
        runtime=per_attempt(30),
    params:
        settings=per_dataset(
            lambda c: pick(
                c["verification"],
                "gap_bins",
                "fmr_levels",
                "min_year_pairs",
                "impostors",
                "bootstrap_iterations",
                "seed",
                "folds",
                "balance_accuracy",
                "min_accuracy_pairs",
            )
        ),
    script:
        "../scripts/step.py"


rule ageing_model:
    input:
        scores=f"{RESULTS}/scores/{{model}}.parquet",
    output:
        table=report(
            f"{VER}/{{model}}/ageing.tsv",
            caption="../report/verification_ageing_table.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "ageing model (table)"},
        ),
    log:
        log_path("ageing_model", "{model}"),
    benchmark:
        benchmark_path("ageing_model", "{model}")
    retries: RETRIES
    conda:
        "../../envs/core.yaml"
    resources:
        mem_mb=per_attempt(6000),
        runtime=per_attempt(20),
    params:
        settings=per_dataset(
            lambda c: {
                "max_pairs": c["verification"]["ageing_max_pairs"],
                "seed": c["verification"]["seed"],
            }
        ),
    script:
        "../scripts/step.py"


rule age_probe:
    input:
        embeddings=f"{RESULTS}/embeddings/{{model}}.npz",
        manifest=f"{RESULTS}/clean/manifest.tsv",
    output:
        table=report(
            f"{VER}/{{model}}/age_probe.tsv",
            caption="../report/verification_age_probe.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "age probe"},
        ),
    log:
        log_path("age_probe", "{model}"),
    benchmark:
        benchmark_path("age_probe", "{model}")
    retries: RETRIES
    conda:
        "../../envs/core.yaml"
    resources:
        mem_mb=per_attempt(6000),
        runtime=per_attempt(20),
    params:
        settings=per_dataset(lambda c: c["verification"]["age_probe"]),
    script:
        "../scripts/step.py"


rule common_pairs:
    input:
        scores=score_files,
        operating=operating_score_files,
    output:
        table=report(
            f"{VER}/paired/common_pairs.tsv",
            caption="../report/paired_common.rst",
            category="6. Verification",
            subcategory="{dataset}: paired comparison",
            labels={"figure": "common pairs"},
        ),
        ids=f"{VER}/paired/common_pair_ids.tsv",
        operating_ids=f"{VER}/paired/common_operating_ids.tsv",
    log:
        log_path("common_pairs"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=lambda w: {"models": dataset_models(dconf(w))},
    script:
        "../scripts/step.py"


# The headline figures again, on the pairs every model scored (verification.comparison_pairs).
use rule verification_metrics as verification_metrics_common with:
    input:
        scores=f"{RESULTS}/scores/{{model}}.parquet",
        operating=f"{RESULTS}/scores/operating/{{model}}.parquet",
        common=f"{VER}/paired/common_pair_ids.tsv",
        common_operating=f"{VER}/paired/common_operating_ids.tsv",
    output:
        metrics=f"{VER}/{{model}}/common/metrics.tsv",
        roc=f"{VER}/{{model}}/common/roc.tsv",
        conventions=f"{VER}/{{model}}/common/conventions.json",
        fnmr=f"{VER}/{{model}}/common/fnmr.tsv",
        fnmr_by_year=f"{VER}/{{model}}/common/fnmr_by_year.tsv",
    log:
        log_path("verification_metrics_common", "{model}"),
    benchmark:
        benchmark_path("verification_metrics_common", "{model}")


use rule ageing_model as ageing_model_common with:
    input:
        scores=f"{RESULTS}/scores/{{model}}.parquet",
        common=f"{VER}/paired/common_pair_ids.tsv",
    output:
        table=f"{VER}/{{model}}/common/ageing.tsv",
    log:
        log_path("ageing_model_common", "{model}"),
    benchmark:
        benchmark_path("ageing_model_common", "{model}")


rule verification_plots:
    input:
        metrics=f"{VER}/{{model}}/metrics.tsv",
        roc=f"{VER}/{{model}}/roc.tsv",
        ageing=f"{VER}/{{model}}/ageing.tsv",
        scores=f"{RESULTS}/scores/{{model}}.parquet",
    output:
        roc=report(
            f"{VER}/{{model}}/roc_by_gap.png",
            caption="../report/verification_roc.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "ROC by age gap"},
        ),
        ranges=report(
            f"{VER}/{{model}}/age_ranges.png",
            caption="../report/verification_ranges.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "age range heatmaps"},
        ),
        ageing=report(
            f"{VER}/{{model}}/ageing.png",
            caption="../report/verification_ageing.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "ageing model"},
        ),
    log:
        log_path("verification_plots", "{model}"),
    benchmark:
        benchmark_path("verification_plots", "{model}")
    localrule: True
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/step.py"


rule operating_plots:
    input:
        scores=f"{RESULTS}/scores/{{model}}.parquet",
        operating=f"{RESULTS}/scores/operating/{{model}}.parquet",
        fnmr=f"{VER}/{{model}}/fnmr.tsv",
        fnmr_by_year=f"{VER}/{{model}}/fnmr_by_year.tsv",
    output:
        det=report(
            f"{VER}/{{model}}/det.tsv",
            caption="../report/verification_det_table.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "DET points (table)"},
        ),
        det_plot=report(
            f"{VER}/{{model}}/det.png",
            caption="../report/verification_det.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "DET by age gap"},
        ),
        fnmr_plot=report(
            f"{VER}/{{model}}/fnmr_by_gap.png",
            caption="../report/verification_fnmr.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "FNMR at fixed FMR by age gap"},
        ),
        fnmr_year_plot=report(
            f"{VER}/{{model}}/fnmr_by_year.png",
            caption="../report/paired_fnmr_year.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "FNMR per year of gap"},
        ),
    log:
        log_path("operating_plots", "{model}"),
    benchmark:
        benchmark_path("operating_plots", "{model}")
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=per_dataset(
            lambda c: pick(c["verification"], "gap_bins", "fmr_levels")
        ),
    script:
        "../scripts/step.py"


rule verification_protocol:
    input:
        protocols=f"{RESULTS}/protocols",
        embeddings=f"{RESULTS}/embeddings/{{model}}.npz",
        manifest=f"{RESULTS}/clean/manifest.tsv",
    output:
        summary=f"{VER}/{{model}}/protocol_{{protocol}}.tsv",
        folds=f"{VER}/{{model}}/protocol_{{protocol}}_folds.tsv",
        pairs=f"{VER}/{{model}}/protocol_{{protocol}}_pairs.tsv",
    log:
        log_path("verification_protocol", "{model}", "{protocol}"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=protocol_format,
    script:
        "../scripts/step.py"


rule benchmarks:
    input:
        summaries=lambda w: expand(
            f"{results(w)}/verification/{{model}}/protocol_{{protocol}}.tsv",
            model=dataset_models(dconf(w)),
            protocol=[p.name for p in PROTOCOLS[w.dataset]],
        ),
    output:
        table=report(
            f"{VER}/benchmarks.tsv",
            caption="../report/verification_protocol.rst",
            category="6. Verification",
            subcategory="{dataset}: benchmarks",
            labels={"figure": "benchmarks (model x protocol)"},
        ),
    log:
        log_path("benchmarks"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=per_dataset(
            lambda c: {"protocols": c["protocols"], "models": published_models(c)}
        ),
    script:
        "../scripts/step.py"


rule verification_comparison:
    input:
        unpack(comparison_inputs),
    output:
        table=report(
            f"{VER}/comparison.tsv",
            caption="../report/verification_comparison.rst",
            category="6. Verification",
            subcategory="{dataset}: all models",
            labels={"figure": "model comparison"},
        ),
        plot=report(
            f"{VER}/metrics_by_gap.png",
            caption="../report/verification_by_gap.rst",
            category="6. Verification",
            subcategory="{dataset}: all models",
            labels={"figure": "metrics against age gap"},
        ),
    log:
        log_path("verification_comparison"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=lambda w: pick(
            dconf(w)["verification"],
            "fmr_levels",
            title=f"{w.dataset}: verification against age gap",
            models=dataset_models(dconf(w)),
            **probe_models(dconf(w)),
        ),
    script:
        "../scripts/step.py"
