# Environments: which interpreter runs a job, and the settings handed to the steps that
# run in a model's or estimator's own interpreter (`python -m faceage step ...`); the
# choice and the settings are faceage.workflow.interpreters, handed the job's facts here.
from faceage.models import get_adapter  # weights.smk: which models download
from faceage.runtime import export_allocator_settings, export_src_path
from faceage.workflow import interpreters as _interp
from faceage.workflow.datasets import published_models  # verification.smk

# Jobs run in other interpreters (conda envs, model venvs, cluster nodes) and import
# this workflow's package through PYTHONPATH, set here to its own src/ (config.smk:
# the checkout's, or unpacked from the git source a module was deployed from): the env
# files do not install it, and with a conda prefix shared by several checkouts or
# versions (profiles/slurm) an installed copy would be whichever built the env first.
export_src_path(str(PACKAGE_FOLDER))
# Memory a job frees goes back to the system, so its peak RSS is what it holds at once.
export_allocator_settings()
env_file = _interp.env_file
model_env = _interp.model_env


def using_conda():
    return DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method


def env_python(env):
    """The interpreter of an environment: its conda env's, its venv's (python_envs), or ours."""
    return _interp.env_python(env, config["python_envs"], using_conda())


def model_conda_env(wildcards):
    return env_file(model_env(wildcards.model))


def model_python(wildcards):
    return env_python(model_env(wildcards.model))


def estimator_conda_env(wildcards):
    return env_file(_interp.estimator_env(wildcards.estimator))


def estimator_python(wildcards):
    return env_python(_interp.estimator_env(wildcards.estimator))


def prepare_settings(wildcards):
    return _interp.prepare_settings(
        wildcards.model, dconf(wildcards), config["weights_dir"]
    )


def embed_settings(wildcards):
    return _interp.embed_settings(
        wildcards.model, dconf(wildcards), config["weights_dir"]
    )


def estimator_step_settings(wildcards):
    return _interp.estimator_step_settings(
        wildcards.estimator, dconf(wildcards), config["weights_dir"]
    )
