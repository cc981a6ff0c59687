# Stage 1 - dataset: a folder of face images -> one manifest (+ rejects).


# The demo's images are drawn into each demo dataset's dataset_path. Only those folders can
# be this rule's output, so no other dataset folder can ever be made (and replaced) by a rule.
if DEMO_FOLDERS:

    rule demo_dataset:
        output:
            folder=directory("{folder}"),
        log:
            "logs/demo_dataset/{folder}.log",
        wildcard_constraints:
            folder="|".join(re.escape(f) for f in DEMO_FOLDERS),
        localrule: True
        conda:
            "../../envs/core.yaml"
        params:
            settings=lambda w: DEMO_FOLDERS[w.folder]["demo"],
        script:
            "../scripts/step.py"


if PROTOCOL_DATASETS:

    # A protocol dataset: the manifest holds exactly the images its protocols name (once
    # each, whichever protocols share them), plus each protocol's pairs in protocols/.
    rule protocol_manifest:
        input:
            protocols=lambda w: [p.file for p in PROTOCOLS[w.dataset]],
        output:
            manifest=f"{RESULTS}/manifest.tsv",
            rejects=report(
                f"{RESULTS}/rejects.tsv",
                caption="../report/rejects.rst",
                category="1. Dataset",
                subcategory="{dataset}",
            ),
            pairs=directory(f"{RESULTS}/protocols"),
        log:
            log_path("protocol_manifest"),
        wildcard_constraints:
            dataset="|".join(re.escape(d) for d in PROTOCOL_DATASETS),
        localrule: True
        conda:
            "../../envs/core.yaml"
        params:
            settings=per_dataset(lambda c: pick(c, "protocols", "shards")),
        script:
            "../scripts/step.py"


if STUDY_DATASETS:

    rule manifest:
        input:
            dataset=lambda w: dconf(w)["dataset_path"],
        output:
            manifest=f"{RESULTS}/manifest.tsv",
            rejects=report(
                f"{RESULTS}/rejects.tsv",
                caption="../report/rejects.rst",
                category="1. Dataset",
                subcategory="{dataset}",
            ),
        log:
            log_path("manifest"),
        wildcard_constraints:
            dataset="|".join(re.escape(d) for d in STUDY_DATASETS),
        localrule: True
        conda:
            "../../envs/core.yaml"
        params:
            settings=per_dataset(
                lambda c: {"format": c["dataset_format"], "shards": c["shards"]}
            ),
        script:
            "../scripts/step.py"


# Only on request (`snakemake -c1 resources/fgnet`): needs internet. FG-NET is
# research-use only; then run with --config dataset_path=resources/fgnet.
rule download_fgnet:
    output:
        folder=directory("resources/fgnet"),
    log:
        "logs/download_fgnet/fgnet.log",
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings={"url": "https://yanweifu.github.io/FG_NET_data/FGNET.zip"},
    script:
        "../scripts/step.py"
