# External models: vectors or pair scores from the user's own file (external_models;
# docs/external.md), written in the contract of the model stages (embeddings/<model>.npz,
# or scores/<model>.parquet and scores/operating/<model>.parquet), so that everything after
# runs on them as on any model. results/<dataset>/external/<model>.tsv says what matched.

# External models of each kind, over every dataset.
EXTERNAL_VECTORS = sorted(
    {
        m
        for c in DATASETS.values()
        for m in vector_models(c)
        if m in c["external_models"]
    }
)
EXTERNAL_SCORES = sorted({m for c in DATASETS.values() for m in score_models(c)})


# A score file's model has no embeddings: its scores come from here, not the scores rules.
ruleorder: external_scores > scores
ruleorder: external_scores > operating_scores


rule external_embeddings:
    input:
        unpack(external_files),
        manifest=f"{RESULTS}/manifest.tsv",
        clean=f"{RESULTS}/clean/manifest.tsv",
    output:
        embeddings=f"{RESULTS}/embeddings/{{model}}.npz",
        report=report(
            LAYOUT.external_report("{dataset}", "{model}"),
            caption="../report/external.rst",
            category="5. Embedding maps",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "external file: what matched"},
        ),
        ids=LAYOUT.external_ids("{dataset}", "{model}"),
    log:
        log_path("external_embeddings", "{model}"),
    wildcard_constraints:
        model=_layout.one_of(EXTERNAL_VECTORS),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=external_step_settings,
    script:
        "../scripts/step.py"


rule external_scores:
    input:
        unpack(external_files),
        manifest=f"{RESULTS}/manifest.tsv",
        clean=f"{RESULTS}/clean/manifest.tsv",
        pairs=f"{RESULTS}/pairs.parquet",
        operating=f"{RESULTS}/operating_pairs.parquet",
    output:
        scores=f"{RESULTS}/scores/{{model}}.parquet",
        operating=f"{RESULTS}/scores/operating/{{model}}.parquet",
        report=report(
            LAYOUT.external_report("{dataset}", "{model}"),
            caption="../report/external.rst",
            category="5. Embedding maps",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "external file: what matched"},
        ),
        ids=LAYOUT.external_ids("{dataset}", "{model}"),
    log:
        log_path("external_scores", "{model}"),
    wildcard_constraints:
        model=_layout.one_of(EXTERNAL_SCORES),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=external_step_settings,
    script:
        "../scripts/step.py"
