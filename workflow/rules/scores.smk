# Stage 5 - scores: cosine similarity of every pair, per model.


rule scores:
    input:
        pairs=f"{RESULTS}/pairs.parquet",
        embeddings=f"{RESULTS}/embeddings/{{model}}.npz",
    output:
        scores=f"{RESULTS}/scores/{{model}}.parquet",
    log:
        log_path("scores", "{model}"),
    benchmark:
        benchmark_path("scores", "{model}")
    localrule: True
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/step.py"


# The Parquet pairs and scores as TSV, for a spreadsheet (tsv_export: true, or ask for the file).
rule tsv_export:
    input:
        table=f"{RESULTS}/{{table}}.parquet",
    output:
        tsv=f"{RESULTS}/tsv/{{table}}.tsv",
    log:
        log_path("tsv_export", "{table}"),
    wildcard_constraints:
        table=r"pairs|scores/[A-Za-z0-9_]+",
    localrule: True
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/step.py"
