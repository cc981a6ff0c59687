# Stage 4 - embeddings: every image embedded once per model, one job per
# shard, each model in its own environment (conda env, or a venv named in
# python_envs). prepare_model checks the weights before any shard runs.


rule prepare_model:
    input:
        f"{RESULTS}/clean/manifest.tsv",
    output:
        provenance=f"{RESULTS}/embeddings/{{model}}/provenance.json",
        # temp: eigenfaces keeps its PCA here (the mean face and the eigenfaces are
        # face pixels); deleted once every shard is embedded (privacy, issue 7).
        state=temp(directory(f"{RESULTS}/embeddings/{{model}}/state")),
    log:
        log_path("prepare_model", "{model}"),
    conda:
        model_conda_env
    params:
        python=model_python,
        settings=model_settings_json,
        weights=config["weights_dir"],
        max_side=config["clean"]["max_side"],
        fit_images=model_fit_images,
        seed=config["analysis"]["seed"],
    shell:
        "{params.python:q} -m faceage.cli prepare --model {wildcards.model:q}"
        " --settings {params.settings:q} --weights-dir {params.weights:q}"
        " --manifest {input:q} --state-dir {output.state:q} --provenance {output.provenance:q}"
        " --max-side {params.max_side:q} --fit-images {params.fit_images:q} --seed {params.seed:q}"
        " > {log:q} 2>&1 || {{ tail -n 30 {log:q} >&2; exit 1; }}"


rule embed:
    input:
        manifest=f"{RESULTS}/clean/manifest.tsv",
        provenance=f"{RESULTS}/embeddings/{{model}}/provenance.json",
        state=f"{RESULTS}/embeddings/{{model}}/state",
    output:
        f"{RESULTS}/embeddings/{{model}}/shard_{{shard}}.npz",
    log:
        log_path("embed", "{model}", "shard{shard}"),
    benchmark:
        benchmark_path("embed", "{model}", "shard{shard}")
    conda:
        model_conda_env
    threads: 1
    params:
        python=model_python,
        settings=model_settings_json,
        weights=config["weights_dir"],
        max_side=config["clean"]["max_side"],
        batch_size=model_batch_size,
        fallback=no_face_fallback(),
        fallback_crop=config["embeddings"]["fallback_crop"],
    shell:
        "OMP_NUM_THREADS={threads} {params.python:q} -m faceage.cli embed --model {wildcards.model:q}"
        " --settings {params.settings:q} --weights-dir {params.weights:q}"
        " --manifest {input.manifest:q} --state-dir {input.state:q} --shard {wildcards.shard:q}"
        " --out {output:q} --max-side {params.max_side:q} --batch-size {params.batch_size:q}"
        " --fallback {params.fallback:q} --fallback-crop {params.fallback_crop:q}"
        " > {log:q} 2>&1"


rule merge_embeddings:
    input:
        shards=expand(
            f"{RESULTS}/embeddings/{{{{model}}}}/shard_{{shard}}.npz",
            shard=SHARDS,
        ),
        manifest=f"{RESULTS}/clean/manifest.tsv",
    output:
        f"{RESULTS}/embeddings/{{model}}.npz",
    log:
        log_path("merge_embeddings", "{model}"),
    wildcard_constraints:
        model="|".join(BUILTIN_MODELS) or "^$",
    localrule: True
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/merge_embeddings.py"


rule export_embeddings:
    input:
        f"{RESULTS}/embeddings/{{model}}.npz",
    output:
        vectors=f"{RESULTS}/embeddings/{{model}}_vectors.csv",
        faces=f"{RESULTS}/embeddings/{{model}}_faces.tsv",
    log:
        log_path("export_embeddings", "{model}"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/export_embeddings.py"


TARGETS.extend(expand(f"{RESULTS}/embeddings/{{model}}_vectors.csv", model=MODEL_NAMES))
