# Model weights, on request only: `snakemake --cores 1 download_weights` fetches the
# published weights of the configured models (insightface packs, deepface files,
# insightface-paddle networks) into weights_dir/<model>/ - it needs internet, so run
# it once on a login node. Nothing else in the workflow downloads: prepare_model
# stops before any embedding, naming each missing file, its folder and its source.
# rule all never asks for these files.

# The download runs in the model's own environment (conda or python_envs venv), once per
# group of datasets with the same settings of the model (WEIGHT_GROUPS), from those settings.
from faceage.models import get_adapter

WEIGHTS_DIR = config["weights_dir"]
DOWNLOADABLE = [m for m in BUILTIN_MODELS if hasattr(get_adapter(m), "downloads")]


rule download_weights:
    input:
        [
            f"{WEIGHTS_DIR}/.downloads/{m}/{g}.json"
            for m in DOWNLOADABLE
            for g in dict.fromkeys(WEIGHT_GROUPS[m].values())
        ],
    localrule: True


rule download_model_weights:
    output:
        record=f"{WEIGHTS_DIR}/.downloads/{{model}}/{{group}}.json",
    log:
        "logs/download_model_weights/{model}_{group}.log",
    wildcard_constraints:
        model="|".join(DOWNLOADABLE) or "^$",
        group="|".join(re.escape(d) for d in DATASETS),
    localrule: True
    conda:
        model_conda_env
    params:
        python=model_python,
        settings=group_weights_settings,
    shell:
        "{params.python:q} -m faceage step download_model_weights --label {wildcards.model:q}"
        " --output record={output.record:q} --settings {params.settings:q} --log {log:q}"
