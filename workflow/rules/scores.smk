# Stage 5 - scores: cosine similarity of every pair, per model.


rule scores:
    input:
        pairs=f"{RESULTS}/pairs.tsv",
        embeddings=f"{RESULTS}/embeddings/{{model}}.npz",
    output:
        scores=f"{RESULTS}/scores/{{model}}.tsv",
    log:
        log_path("scores", "{model}"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/step.py"
