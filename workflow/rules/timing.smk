# Timing per model (the original study's time.txt, per image): images/s, wall
# seconds and cores used, from the embed jobs' Snakemake benchmark files.


rule timing_table:
    input:
        manifest=f"{RESULTS}/clean/manifest.tsv",
        benchmarks=expand(
            benchmark_path("embed", "{model}", "shard{shard}"),
            model=BUILTIN_MODELS,
            shard=SHARDS,
        ),
    output:
        report(
            f"{RESULTS}/tables/timing.tsv",
            caption="../report/timing.rst",
            category="5. Embedding maps",
        ),
    log:
        log_path("timing_table"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        dataset=DS,
    script:
        "../scripts/timing_table.py"


TARGETS.append(f"{RESULTS}/tables/timing.tsv")
