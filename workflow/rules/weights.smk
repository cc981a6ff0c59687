# Model weights, on request only: `snakemake --cores 1 download_weights` fetches the
# published weights of the configured models (insightface packs, deepface files,
# insightface-paddle networks) into weights_dir/<model>/ - it needs internet, so run
# it once on a login node. Nothing else in the workflow downloads: prepare_model
# stops before any embedding, naming each missing file, its folder and its source.
# rule all never asks for these files.

# The download runs in the model's own environment (conda or python_envs venv).
WEIGHTS_DIR = config["weights_dir"]
DOWNLOADABLE = [m for m in BUILTIN_MODELS if hasattr(get_adapter(m), "downloads")]


rule download_weights:
    input:
        expand(f"{WEIGHTS_DIR}/.downloads/{{model}}.json", model=DOWNLOADABLE),
    localrule: True


rule download_model_weights:
    output:
        record=f"{WEIGHTS_DIR}/.downloads/{{model}}.json",
    log:
        "logs/download_model_weights/{model}.log",
    wildcard_constraints:
        model="|".join(DOWNLOADABLE) or "^$",
    localrule: True
    conda:
        model_conda_env
    params:
        python=model_python,
        settings=weights_settings,
    shell:
        "{params.python:q} -m faceage step download_model_weights --label {wildcards.model:q}"
        " --output record={output.record:q} --settings {params.settings:q} --log {log:q}"
