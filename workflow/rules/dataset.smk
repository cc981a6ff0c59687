# Stage 1 - dataset: a folder of face images -> one manifest (+ rejects).


# The demo's images are drawn into dataset_path. Only defined for the demo, so
# no other dataset folder can ever be the output of a rule (and be replaced).
if config["dataset_format"] == "demo":

    rule demo_dataset:
        output:
            directory(config["dataset_path"]),
        log:
            "logs/demo_dataset/demo.log",
        localrule: True
        conda:
            "../../envs/core.yaml"
        params:
            demo=config["demo"],
        script:
            "../scripts/demo_dataset.py"


if PROTOCOL_RUN:

    # A protocol run: the manifest holds exactly the images the protocols name
    # (once each, whichever protocols share them), plus each protocol's pairs.
    rule protocol_manifest:
        input:
            protocol_files,
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
            protocols=config["protocols"],
            names=PROTOCOL_NAMES,
            shards=config["shards"],
        script:
            "../scripts/protocol_manifest.py"

else:

    rule manifest:
        input:
            dataset_input,
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
            fmt=config["dataset_format"],
            shards=config["shards"],
        script:
            "../scripts/manifest.py"


# Only on request (`snakemake -c1 resources/fgnet`): needs internet. FG-NET is
# research-use only; then run with --config dataset_path=resources/fgnet.
rule download_fgnet:
    output:
        directory("resources/fgnet"),
    log:
        "logs/download_fgnet/fgnet.log",
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        url="https://yanweifu.github.io/FG_NET_data/FGNET.zip",
    script:
        "../scripts/download_fgnet.py"
