"""Which interpreter runs a job, and the settings handed to the steps that run in a model's or
estimator's own interpreter (``python -m faceage step ... --settings JSON``).

An environment is a name (``core``, ``dlib``, ``insightface``, ...): each model and estimator
names its own (``get_adapter(m).env``, ``get_estimator(e).env``). With conda a job runs in the
env made from ``envs/<env>.yaml``; without, in the interpreter ``python_envs`` names for the
env, else the one running Snakemake. The settings are JSON strings with sorted keys, so the
same settings give the same params (a change of one re-runs the rule, an equal one never).
"""

from __future__ import annotations

import json
import sys

from faceage.workflow.datasets import model_settings, no_face_fallback


def env_file(env: str) -> str:
    """envs/<env>.yaml, relative to workflow/rules/ as the rules' own conda: paths are, so it
    is found in a checkout and in a git source alike."""
    return f"../../envs/{env}.yaml"


def env_python(
    env: str, python_envs: dict[str, str], using_conda: bool, default: str = sys.executable
) -> str:
    """The interpreter of environment ``env``: its conda env's (``python`` on the job's PATH),
    its venv's (``python_envs``), or ``default`` (the one running Snakemake)."""
    if using_conda:
        return "python"
    return python_envs.get(env, default)


def model_env(model: str) -> str:
    """The environment a built-in model's jobs run in."""
    from faceage.models import get_adapter

    return get_adapter(model).env


def estimator_env(estimator: str) -> str:
    """The environment an age and gender estimator's jobs run in."""
    from faceage.attributes import get_estimator

    return get_estimator(estimator).env


def settings_json(settings: dict) -> str:
    """One JSON argument (sorted keys: equal settings, equal params)."""
    return json.dumps(settings, sort_keys=True)


def model_step_settings(model: str, c: dict, weights_dir: str, **more) -> str:
    """A model rule's settings (JSON): the model, its settings in configuration ``c`` (face
    choice resolved), the weights folder, and ``more``."""
    return settings_json(
        {
            "model": model,
            "model_settings": model_settings(model, c),
            "weights_dir": weights_dir,
            **more,
        }
    )


def prepare_settings(model: str, c: dict, weights_dir: str) -> str:
    """What prepare_model reads: the images' size and the seed of its fitting sample."""
    return model_step_settings(
        model, c, weights_dir, max_side=c["clean"]["max_side"], seed=c["analysis"]["seed"]
    )


def embed_settings(model: str, c: dict, weights_dir: str) -> str:
    """What embed reads: the images' size and the no-face fallback (auto resolved)."""
    return model_step_settings(
        model,
        c,
        weights_dir,
        max_side=c["clean"]["max_side"],
        fallback=no_face_fallback(c),
        fallback_crop=c["embeddings"]["fallback_crop"],
    )


def estimator_step_settings(estimator: str, c: dict, weights_dir: str) -> str:
    """What attributes_predict reads (JSON): the estimator, its settings, the weights folder,
    the images' size and the batch size."""
    attr = c["attributes"]
    return settings_json(
        {
            "estimator": estimator,
            "estimator_settings": attr["settings"].get(estimator, {}),
            "weights_dir": weights_dir,
            "max_side": c["clean"]["max_side"],
            "batch_size": attr["batch_size"],
        }
    )
