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
        "{params.python} -m faceage.cli prepare --model {wildcards.model}"
        " --settings '{params.settings}' --weights-dir {params.weights}"
        " --manifest {input} --state-dir {output.state} --provenance {output.provenance}"
        " --max-side {params.max_side} --fit-images {params.fit_images} --seed {params.seed}"
        " > {log} 2>&1 || {{ tail -n 30 {log} >&2; exit 1; }}"


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
    shell:
        "OMP_NUM_THREADS={threads} {params.python} -m faceage.cli embed --model {wildcards.model}"
        " --settings '{params.settings}' --weights-dir {params.weights}"
        " --manifest {input.manifest} --state-dir {input.state} --shard {wildcards.shard}"
        " --out {output} --max-side {params.max_side} --batch-size {params.batch_size}"
        " > {log} 2>&1"


rule merge_embeddings:
    input:
        expand(
            f"{RESULTS}/embeddings/{{{{model}}}}/shard_{{shard}}.npz",
            shard=SHARDS,
        ),
    output:
        f"{RESULTS}/embeddings/{{model}}.npz",
    log:
        log_path("merge_embeddings", "{model}"),
    wildcard_constraints:
        model="|".join(BUILTIN_MODELS) or "^$",
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
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/export_embeddings.py"


TARGETS.extend(expand(f"{RESULTS}/embeddings/{{model}}_vectors.csv", model=MODEL_NAMES))
