# Stage 6 - similarity: the original study's tables (per model side by side),
# similarity against age gap, and maps of the embeddings.


rule similarity_tables:
    input:
        scores=score_files,
    output:
        within=report(
            f"{RESULTS}/tables/similarity_within_range.csv",
            caption="../report/similarity_within_range.rst",
            category="4. Similarity",
            subcategory="{dataset}",
        ),
        between=report(
            f"{RESULTS}/tables/similarity_between_ranges.csv",
            caption="../report/similarity_between_ranges.rst",
            category="4. Similarity",
            subcategory="{dataset}",
        ),
        by_gap=report(
            f"{RESULTS}/tables/similarity_by_gap.csv",
            caption="../report/similarity_by_gap_table.rst",
            category="4. Similarity",
            subcategory="{dataset}",
        ),
    log:
        log_path("similarity_tables"),
    benchmark:
        benchmark_path("similarity_tables")
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=per_dataset(
            lambda c: pick(c["comparisons"], "age_bins", models=dataset_models(c))
        ),
    script:
        "../scripts/step.py"


rule plot_similarity:
    input:
        scores=score_files,
        by_gap=f"{RESULTS}/tables/similarity_by_gap.csv",
    output:
        by_gap=report(
            f"{RESULTS}/plots/similarity_by_gap.png",
            caption="../report/similarity_by_gap.rst",
            category="4. Similarity",
            subcategory="{dataset}",
        ),
        distributions=report(
            f"{RESULTS}/plots/similarity_distributions.png",
            caption="../report/similarity_distributions.rst",
            category="4. Similarity",
            subcategory="{dataset}",
        ),
    log:
        log_path("plot_similarity"),
    benchmark:
        benchmark_path("plot_similarity")
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=per_dataset(
            lambda c: pick(
                c["analysis"], "min_pairs_per_gap", models=dataset_models(c)
            )
        ),
    script:
        "../scripts/step.py"


rule projections:
    input:
        embeddings=f"{RESULTS}/embeddings/{{model}}.npz",
        manifest=f"{RESULTS}/clean/manifest.tsv",
    output:
        table=f"{RESULTS}/projections/{{model}}.tsv",
        plot=report(
            f"{RESULTS}/plots/projections_{{model}}.png",
            caption="../report/projections.rst",
            category="5. Embedding maps",
            subcategory="{dataset}",
            labels={"model": "{model}"},
        ),
    log:
        log_path("projections", "{model}"),
    benchmark:
        benchmark_path("projections", "{model}")
    retries: RETRIES
    conda:
        "../../envs/core.yaml"
    threads: 2
    resources:
        mem_mb=per_attempt(6000),
        runtime=per_attempt(20),
    params:
        settings=per_dataset(
            lambda c: pick(
                c["analysis"],
                "seed",
                "balanced_per_range",
                "tsne_max_images",
                "tsne_perplexity",
                "persons_to_plot",
                age_bins=c["comparisons"]["age_bins"],
            )
        ),
    script:
        "../scripts/step.py"
