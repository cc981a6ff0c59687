# Timing per model (the original study's time.txt, per image): images/s, wall
# seconds and cores used, from the embed jobs' Snakemake benchmark files.


rule timing_table:
    input:
        manifest=f"{RESULTS}/clean/manifest.tsv",
        benchmarks=[f for files in embed_benchmarks().values() for f in files],
        speeds=[f for files in embed_benchmarks(speed_path).values() for f in files],
    output:
        table=report(
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
        settings={
            "benchmarks": embed_benchmarks(),
            "speeds": embed_benchmarks(speed_path),
        },
    script:
        "../scripts/step.py"
