# Stage 2 - clean: decode, hash and count faces once per image (one job per
# shard), then remove or flag what would poison the study, saying why.


rule detect_faces:
    input:
        manifest=f"{RESULTS}/manifest.tsv",
    output:
        inspection=f"{RESULTS}/clean/inspect/shard_{{shard}}.tsv",
    log:
        log_path("detect_faces", "shard{shard}"),
    benchmark:
        benchmark_path("detect_faces", "shard{shard}")
    retries: RETRIES
    conda:
        "../../envs/dlib.yaml"
    resources:
        mem_mb=detect_mem_mb,
        runtime=detect_runtime,
    params:
        settings=per_dataset(detect_settings),
    script:
        "../scripts/step.py"


rule clean:
    input:
        manifest=f"{RESULTS}/manifest.tsv",
        inspect=shard_files(f"{RESULTS}/clean/inspect/shard_{{shard}}.tsv"),
        overrides=overrides_input,
    output:
        manifest=f"{RESULTS}/clean/manifest.tsv",
        report=report(
            f"{RESULTS}/clean/cleaning_report.tsv",
            caption="../report/cleaning_report.rst",
            category="2. Cleaning",
            subcategory="{dataset}",
        ),
        summary=report(
            f"{RESULTS}/clean/cleaning_summary.tsv",
            caption="../report/cleaning_summary.rst",
            category="2. Cleaning",
            subcategory="{dataset}",
        ),
    log:
        log_path("clean"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=per_dataset(
            lambda c: pick(
                c["clean"],
                "detector",
                "min_images_per_person",
                "age_min",
                "age_max",
                "require_age",
                multi_face=face_choice(c, c["clean"]["multi_face"]),
                keep_all=is_protocol(c),
            )
        ),
    script:
        "../scripts/step.py"
