# Timing per model (the original study's time.txt, per image): images/s, wall
# seconds and cores used, from the embed jobs' Snakemake benchmark files.


rule timing_table:
    input:
        manifest=f"{RESULTS}/clean/manifest.tsv",
        benchmarks=lambda w: [f for fs in embed_benchmarks(w).values() for f in fs],
        speeds=lambda w: [
            f for fs in embed_benchmarks(w, speed_path).values() for f in fs
        ],
    output:
        table=report(
            f"{RESULTS}/tables/timing.tsv",
            caption="../report/timing.rst",
            category="5. Embedding maps",
            subcategory="{dataset}",
        ),
    log:
        log_path("timing_table"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=lambda w: {
            "benchmarks": embed_benchmarks(w),
            "speeds": embed_benchmarks(w, speed_path),
        },
    script:
        "../scripts/step.py"
