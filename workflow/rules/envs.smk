# Environments: which interpreter runs a job, and the settings handed to the steps that
# run in a model's or estimator's own interpreter (`python -m faceage step ...`).
import json

from faceage.attributes import get_estimator
from faceage.models import get_adapter
from faceage.runtime import export_allocator_settings, export_src_path

# Jobs run in other interpreters (conda envs, model venvs, cluster nodes) and import
# this workflow's package through PYTHONPATH, set here to its own src/ (config.smk:
# the checkout's, or unpacked from the git source a module was deployed from): the env
# files do not install it, and with a conda prefix shared by several checkouts or
# versions (profiles/slurm) an installed copy would be whichever built the env first.
export_src_path(str(PACKAGE_FOLDER))
# Memory a job frees goes back to the system, so its peak RSS is what it holds at once.
export_allocator_settings()


def using_conda():
    return DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method


def env_file(env):
    """envs/<env>.yaml, relative to workflow/rules/ as the rules' own conda: paths are, so it
    is found in a checkout and in a git source alike."""
    return f"../../envs/{env}.yaml"


def env_python(env):
    """The interpreter of an environment: its conda env's, its venv's (python_envs), or ours."""
    if using_conda():
        return "python"
    return config["python_envs"].get(env, sys.executable)


def model_env(model):
    return get_adapter(model).env


def model_conda_env(wildcards):
    return env_file(model_env(wildcards.model))


def model_python(wildcards):
    return env_python(model_env(wildcards.model))


def estimator_conda_env(wildcards):
    return env_file(get_estimator(wildcards.estimator).env)


def estimator_python(wildcards):
    return env_python(get_estimator(wildcards.estimator).env)


def no_face_fallback(c):
    """embeddings.no_face_fallback, with auto resolved: aligned in protocol runs, else none."""
    mode = c["embeddings"]["no_face_fallback"]
    if mode == "auto":
        return "aligned" if is_protocol(c) else "none"
    return mode


def _json(settings):
    return json.dumps(settings, sort_keys=True)


def model_settings(model, c):
    """A model's settings in configuration ``c``, its face choice resolved (models that
    choose among faces)."""
    own = dict(c["model_settings"].get(model, {}))
    if "multi_face" in own:
        own["multi_face"] = face_choice(c, own["multi_face"])
    return own


def published_models(c):
    """What benchmarks.tsv needs to find each model's published figures: the recogniser it
    is and its test-time settings."""
    from faceage.models.base import test_time

    return {
        m: {
            "published_id": get_adapter(m).published_id(model_settings(m, c)),
            "settings": test_time(model_settings(m, c)),
        }
        for m in dataset_models(c)
        if m in MODELS
    }


def _model_settings(wildcards, c, **more):
    """A model rule's settings (JSON): the model, its settings, the weights, and ``more``."""
    return _json(
        {
            "model": wildcards.model,
            "model_settings": model_settings(wildcards.model, c),
            "weights_dir": config["weights_dir"],
            **more,
        }
    )


def prepare_settings(wildcards):
    """What prepare_model reads: the images' size and the seed of its fitting sample."""
    c = dconf(wildcards)
    return _model_settings(
        wildcards, c, max_side=c["clean"]["max_side"], seed=c["analysis"]["seed"]
    )


def embed_settings(wildcards):
    """What embed reads: the images' size and the no-face fallback."""
    c = dconf(wildcards)
    return _model_settings(
        wildcards,
        c,
        max_side=c["clean"]["max_side"],
        fallback=no_face_fallback(c),
        fallback_crop=c["embeddings"]["fallback_crop"],
    )


def weights_settings(wildcards):
    """What download_model_weights reads: the top-level model settings (weights are fetched
    once per model, whatever datasets use it)."""
    return _model_settings(wildcards, config)


def estimator_step_settings(wildcards):
    """What attributes_predict reads (JSON)."""
    c = dconf(wildcards)
    attr = c["attributes"]
    return _json(
        {
            "estimator": wildcards.estimator,
            "estimator_settings": attr["settings"].get(wildcards.estimator, {}),
            "weights_dir": config["weights_dir"],
            "max_side": c["clean"]["max_side"],
            "batch_size": attr["batch_size"],
        }
    )
