# The configuration: read, coerced, validated against the schema (defaults filled in),
# then the checks a schema cannot express. Everything else reads config[...] after this.
import os
import shutil
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate
from snakemake_interface_executor_plugins.settings import DeploymentMethod


def _package_folder(base):
    """A local folder holding this workflow's own src/ (the faceage package), from ``base``,
    this file's folder as Snakemake's source: a folder on disk (a checkout, or a module loaded
    from a local path) gives its src/ in place; a git source (gitfile, github, gitlab: a module
    deployed at a commit) has src/ of that commit unpacked once into
    .snakemake/faceage-src/<commit>/ of the working directory (shared with cluster jobs), with
    that commit's pyproject.toml (faceage.__version__ reads the version from it; the folder's
    name is the commit settings.yaml records).
    """
    if hasattr(base, "__fspath__") or isinstance(base, str):
        return Path(base).resolve().parents[1] / "src"
    import git

    repo = (
        base.hosted_repo.repo
        if hasattr(base, "hosted_repo")
        else git.Repo(base.repo_path)
    )
    commit = repo.commit(base.ref)
    src = os.path.normpath(f"{base.path}/../../src")
    dest = Path(".snakemake", "faceage-src", commit.hexsha).resolve()
    if not dest.is_dir():
        tmp = Path(f"{dest}.{os.getpid()}.tmp")
        for blob in commit.tree[src].traverse():
            if blob.type == "blob":
                out = tmp / os.path.relpath(blob.path, src)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(blob.data_stream.read())
        pyproject = os.path.normpath(f"{base.path}/../../pyproject.toml")
        (tmp / "pyproject.toml").write_bytes(commit.tree[pyproject].data_stream.read())
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(
                tmp, dest
            )  # atomic: a second run started at once finds it complete
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _git_join_accepts_source_files():
    """Snakemake 9.27's LocalGitFile.join (a module from `gitfile(...)`) takes only a str, but
    a `script:` rule hands it a source file, so every script job of such a module failed with
    "expected str instance, LocalSourceFile found". github()/gitlab() sources join both; this
    gives gitfile sources the same. Applied only where a probe shows the bug (a Snakemake that
    fixed it is left alone); tests/test_module.py fails when the pinned Snakemake no longer
    has it, so that this can go."""
    from snakemake.sourcecache import LocalGitFile, LocalSourceFile, SourceFile

    join = LocalGitFile.join
    if getattr(join, "_faceage", False):
        return
    try:
        LocalGitFile(".", "workflow", commit="0" * 40).join(LocalSourceFile("x"))
        return  # Snakemake joins source files itself
    except TypeError:
        pass

    def join_path_or_source(self, path):
        if isinstance(path, SourceFile):
            path = path.get_path_or_uri(secret_free=False)
        return join(self, path)

    join_path_or_source._faceage = True
    LocalGitFile.join = join_path_or_source


_git_join_accepts_source_files()
# This workflow's package for the Snakemake process (an installed faceage from another
# checkout or version must not be the one that runs); jobs get it through envs.smk.
PACKAGE_FOLDER = _package_folder(workflow.current_basedir)
sys.path.insert(0, str(PACKAGE_FOLDER))

import yaml  # noqa: E402

from faceage.attributes import ESTIMATORS  # noqa: E402
from faceage.models import MODELS  # noqa: E402
from faceage.protocols.dataset import protocols_from_config  # noqa: E402
from faceage.workflow import settings as _settings  # noqa: E402
from faceage.workflow.datasets import (  # noqa: E402
    dataset_models,
    detect_settings,
    estimator_names,
    external_inputs,
    external_settings,
    face_choice,
    is_protocol,
    pick,
    probe_models,
    score_models,
    shards,
    vector_models,
)

# The configuration, resolved layer by layer (faceage.workflow.settings says the order and
# why): schema defaults, a dataset's preset, your top level, the dataset's own keys,
# --config last. With no configuration at all, the demo preset (config/demo.yaml).
_SCHEMA_DICT = yaml.safe_load(
    Path(workflow.source_path("../schemas/config.schema.yaml")).read_text()
)
# A module deployment hands its config over (module ...: config: config): the whole of it is
# the user's top level, and its own --config is already in it.
_IS_MODULE = bool(workflow.modifier.skip_configfile)
_CONFIGFILES = list(workflow.config_settings.configfiles)
_DEMO = _settings.uses_demo(config, _CONFIGFILES, _IS_MODULE)


def validate_config(c):
    validate(c, schema="../schemas/config.schema.yaml")


try:
    for _file in _CONFIGFILES:  # keys given twice: YAML (and Snakemake) keep the last
        _settings.load_yaml(_file)
    RUN, DATASETS = _settings.resolve(
        config,
        schema=_SCHEMA_DICT,
        validate=validate_config,
        cli={} if _IS_MODULE else dict(workflow.config_settings.config),
        demo_preset=(
            Path(workflow.source_path("../../config/demo.yaml")) if _DEMO else None
        ),
    )
except _settings.ConfigError as exc:
    raise WorkflowError(f"invalid configuration:\n  {exc}")
# Every rule reads the run's own settings (RUN_KEYS) from the resolved top level.
config.clear()
config.update(RUN)
STUDY = bool(config["datasets"])
PROTOCOLS = {}
for _name, _c in DATASETS.items():
    try:
        PROTOCOLS[_name] = protocols_from_config(_c["protocols"])
    except ValueError as exc:
        raise WorkflowError(f"invalid configuration:\n  datasets.{_name}: {exc}")
PROTOCOL_DATASETS = [
    d for d, c in DATASETS.items() if c["dataset_format"] == "protocol"
]
STUDY_DATASETS = [d for d in DATASETS if d not in PROTOCOL_DATASETS]
# Demo datasets draw their images into their dataset_path: {folder: configuration}.
DEMO_FOLDERS = {
    c["dataset_path"]: c for c in DATASETS.values() if c["dataset_format"] == "demo"
}
# Every model of any dataset.
MODEL_NAMES = list(dict.fromkeys(m for c in DATASETS.values() for m in c["models"]))
BUILTIN_MODELS = [m for m in MODEL_NAMES if m in MODELS]
# Datasets that share each model's weights check and download: {model: {dataset: group}}.
WEIGHT_GROUPS = _settings.weight_groups(DATASETS)
# How often a failed job is tried again (with more memory and time: resources.smk).
RETRIES = config["retries"]
# What results/<dataset>/settings.yaml records beside the configuration.
GIT_COMMIT = _settings.git_commit(PACKAGE_FOLDER)


def dconf(wildcards):
    """The configuration of the job's dataset."""
    return DATASETS[wildcards.dataset]


def weights_record(wildcards):
    """The weights check of the job's model and dataset (its group's)."""
    group = WEIGHT_GROUPS[wildcards.model][wildcards.dataset]
    return LAYOUT.weights_record(wildcards.model, group)


def group_weights_settings(wildcards):
    """What check_weights and download_model_weights read: the model's settings in the
    group's first dataset, the settings that embed every dataset of the group."""
    from faceage.workflow.interpreters import model_step_settings

    return model_step_settings(
        wildcards.model, DATASETS[wildcards.group], config["weights_dir"]
    )


def per_dataset(settings):
    """params for a rule: ``settings(c)`` of the job's dataset configuration ``c``."""
    return lambda wildcards: settings(dconf(wildcards))


def _check_config():
    """Checks JSON Schema cannot express (faceage.workflow.settings), and the conda prefix;
    each names the key and what is allowed."""
    problems = _settings.study_problems(config, DATASETS, PROTOCOLS)
    for name, c in DATASETS.items():
        at = f"datasets.{name}." if STUDY else ""
        for warning in _settings.dataset_warnings(c, PROTOCOLS[name], at):
            print(f"WARNING: {warning}", file=sys.stderr)
    # profiles/slurm*: conda-prefix: $FACEAGE_CONDA_PREFIX, left as is when unset
    deploy = workflow.deployment_settings
    conda_prefix = str(deploy.conda_prefix or "")
    if DeploymentMethod.CONDA in deploy.deployment_method and "$" in conda_prefix:
        problems.append(
            f"--conda-prefix {conda_prefix!r}: its environment variable is not set "
            "(export FACEAGE_CONDA_PREFIX=/proj/<storage>/faceage-conda; docs/cluster.md)"
        )
    if problems:
        raise WorkflowError("invalid configuration:\n  " + "\n  ".join(problems))


_check_config()
