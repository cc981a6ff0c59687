# Stage 4 - embeddings: every image embedded once per model, one job per
# shard, each model in its own environment (conda env, or a venv named in
# python_envs). prepare_model checks the weights before any shard runs.


# The weights of each model, checked once for each group of datasets with the same settings
# of that model (WEIGHT_GROUPS; the group is named by its first dataset), from the settings
# that embed them: a missing file stops the run before any dataset's model job. Records what
# they are (files, sizes, SHA-256).
rule check_weights:
    output:
        record=LAYOUT.weights_record("{model}", "{group}"),
    log:
        "logs/check_weights/{model}_{group}.log",
    wildcard_constraints:
        model="|".join(BUILTIN_MODELS) or "^$",
        group="|".join(re.escape(d) for d in DATASETS),
    localrule: True
    conda:
        model_conda_env
    params:
        python=model_python,
        settings=group_weights_settings,
    shell:
        "{params.python:q} -m faceage step check_weights --label {wildcards.model:q}"
        " --output record={output.record:q} --settings {params.settings:q} --log {log:q}"


rule prepare_model:
    input:
        manifest=f"{RESULTS}/clean/manifest.tsv",
        weights=weights_record,
    output:
        provenance=report(
            f"{RESULTS}/embeddings/{{model}}/provenance.json",
            caption="../report/embeddings_provenance.rst",
            category="5. Embedding maps",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "model provenance"},
        ),
        # temp: eigenfaces keeps its PCA here (the mean face and the eigenfaces are
        # face pixels); deleted once every shard is embedded (privacy, issue 7).
        state=temp(directory(f"{RESULTS}/embeddings/{{model}}/state")),
    log:
        log_path("prepare_model", "{model}"),
    retries: RETRIES
    conda:
        model_conda_env
    resources:
        mem_mb=prepare_mem_mb,
        runtime=per_attempt(20),
    params:
        python=model_python,
        settings=prepare_settings,
    shell:
        "{params.python:q} -m faceage step prepare_model --label {wildcards.model:q}"
        " --input manifest={input.manifest:q} --output state={output.state:q}"
        " --output provenance={output.provenance:q} --settings {params.settings:q}"
        " --log {log:q}"


rule embed:
    input:
        manifest=f"{RESULTS}/clean/manifest.tsv",
        provenance=f"{RESULTS}/embeddings/{{model}}/provenance.json",
        state=f"{RESULTS}/embeddings/{{model}}/state",
    output:
        embeddings=f"{RESULTS}/embeddings/{{model}}/shard_{{shard}}.npz",
        # the job's own speed record (loading timed apart), beside its benchmark file
        speed=speed_path("embed", "{model}", "shard{shard}"),
    log:
        log_path("embed", "{model}", "shard{shard}"),
    benchmark:
        benchmark_path("embed", "{model}", "shard{shard}")
    retries: RETRIES
    conda:
        model_conda_env
    threads: 1
    resources:
        mem_mb=embed_mem_mb,
        runtime=embed_runtime,
    params:
        python=model_python,
        settings=embed_settings,
    shell:
        "OMP_NUM_THREADS={threads} {params.python:q} -m faceage step embed"
        " --label {wildcards.model:q} --wildcard shard={wildcards.shard:q}"
        " --input manifest={input.manifest:q} --input state={input.state:q}"
        " --output embeddings={output.embeddings:q} --output speed={output.speed:q}"
        " --settings {params.settings:q}"
        " --log {log:q}"


rule merge_embeddings:
    input:
        shards=shard_files(f"{RESULTS}/embeddings/{{model}}/shard_{{shard}}.npz"),
        manifest=f"{RESULTS}/clean/manifest.tsv",
    output:
        embeddings=f"{RESULTS}/embeddings/{{model}}.npz",
    log:
        log_path("merge_embeddings", "{model}"),
    wildcard_constraints:
        model="|".join(BUILTIN_MODELS) or "^$",
    localrule: True
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/step.py"


rule export_embeddings:
    input:
        embeddings=f"{RESULTS}/embeddings/{{model}}.npz",
    output:
        vectors=f"{RESULTS}/embeddings/{{model}}_vectors.csv",
        faces=f"{RESULTS}/embeddings/{{model}}_faces.tsv",
    log:
        log_path("export_embeddings", "{model}"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/step.py"
