# Stage 1 - dataset: a folder of face images -> one manifest (+ rejects).


# The demo's images are drawn into dataset_path. Only defined for the demo, so
# no other dataset folder can ever be the output of a rule (and be replaced).
if config["dataset_format"] == "demo":

    rule demo_dataset:
        output:
            folder=directory(config["dataset_path"]),
        log:
            "logs/demo_dataset/demo.log",
        localrule: True
        conda:
            "../../envs/core.yaml"
        params:
            settings=config["demo"],
        script:
            "../scripts/step.py"


if PROTOCOL_RUN:

    # A protocol run: the manifest holds exactly the images the protocols name
    # (once each, whichever protocols share them), plus each protocol's pairs.
    rule protocol_manifest:
        input:
            protocols=[p.file for p in PROTOCOLS],
        output:
            manifest=f"{RESULTS}/manifest.tsv",
            rejects=report(
                f"{RESULTS}/rejects.tsv",
                caption="../report/rejects.rst",
                category="1. Dataset",
            ),
            pairs=expand(
                f"{RESULTS}/protocols/{{protocol}}.tsv", protocol=PROTOCOL_NAMES
            ),
        log:
            log_path("protocol_manifest"),
        localrule: True
        conda:
            "../../envs/core.yaml"
        params:
            settings={"protocols": config["protocols"], "shards": config["shards"]},
        script:
            "../scripts/step.py"

else:

    rule manifest:
        input:
            dataset=config["dataset_path"],
        output:
            manifest=f"{RESULTS}/manifest.tsv",
            rejects=report(
                f"{RESULTS}/rejects.tsv",
                caption="../report/rejects.rst",
                category="1. Dataset",
            ),
        log:
            log_path("manifest"),
        localrule: True
        conda:
            "../../envs/core.yaml"
        params:
            settings={"format": config["dataset_format"], "shards": config["shards"]},
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
