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


# The operating impostor pool scored the same way (streamed).
use rule scores as operating_scores with:
    input:
        pairs=f"{RESULTS}/operating_pairs.parquet",
        embeddings=f"{RESULTS}/embeddings/{{model}}.npz",
    output:
        scores=f"{RESULTS}/scores/operating/{{model}}.parquet",
    log:
        log_path("operating_scores", "{model}"),
    benchmark:
        benchmark_path("operating_scores", "{model}")


# Score files other tools read (exports: [bob, pyeer], or ask for a file): bob.bio's CSV and
# pyeer's genuine/impostor files, genuine pairs against the operating pool and against the pairs
# table's impostors, and a note of which metrics.tsv figures each reproduces
# (faceage.exports).
rule score_exports_bob:
    input:
        scores=f"{RESULTS}/scores/{{model}}.parquet",
        operating=f"{RESULTS}/scores/operating/{{model}}.parquet",
    output:
        bob=f"{RESULTS}/exports/{{model}}/bob_scores.csv",
        bob_pairs=f"{RESULTS}/exports/{{model}}/bob_scores_pairs.csv",
    log:
        log_path("score_exports_bob", "{model}"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/step.py"


use rule score_exports_bob as score_exports_pyeer with:
    output:
        genuine=f"{RESULTS}/exports/{{model}}/pyeer_genuine.txt",
        impostor=f"{RESULTS}/exports/{{model}}/pyeer_impostor.txt",
        impostor_pairs=f"{RESULTS}/exports/{{model}}/pyeer_impostor_pairs.txt",
    log:
        log_path("score_exports_pyeer", "{model}"),


rule export_note:
    input:
        unpack(export_files),
    output:
        note=report(
            f"{RESULTS}/exports/{{model}}/README.txt",
            caption="../report/exports.rst",
            category="6. Verification",
            subcategory="{dataset}: {model}",
            labels={"model": "{model}", "figure": "score exports (bob, pyeer)"},
        ),
        record=f"{RESULTS}/exports/{{model}}/exports.json",
    log:
        log_path("export_note", "{model}"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=per_dataset(
            lambda c: pick(
                c["verification"],
                "fmr_levels",
                formats=c["exports"],
                pairs_impostors=c["comparisons"]["impostors"],
            )
        ),
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
