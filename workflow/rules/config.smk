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
    .snakemake/faceage-src/<commit>/ of the working directory (shared with cluster jobs).
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
    gives gitfile sources the same (a no-op where Snakemake already does it)."""
    from snakemake.sourcecache import LocalGitFile, SourceFile

    join = LocalGitFile.join
    if getattr(join, "_faceage", False):
        return

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
from faceage.configcheck import (  # noqa: E402
    coerce_cli_scalars,
    dataset_configs,
    unknown_keys,
)
from faceage.demo import is_demo_folder  # noqa: E402
from faceage.models import MODELS  # noqa: E402
from faceage.protocols.dataset import protocols_from_config  # noqa: E402
from faceage.protocols.formats import FORMATS as PROTOCOL_FORMATS  # noqa: E402
from faceage.workflow.datasets import (  # noqa: E402
    dataset_models,
    detect_settings,
    estimator_names,
    face_choice,
    is_protocol,
    pick,
    shards,
)

# Numbers and booleans typed inside --config dicts arrive as strings: read them
# as the schema wants. Then unknown keys, named with what is allowed (the schema's
# own message prints the whole schema), then the schema (types, ranges; defaults).
_SCHEMA = Path(workflow.source_path("../schemas/config.schema.yaml"))
_SCHEMA_DICT = yaml.safe_load(_SCHEMA.read_text())
config.update(coerce_cli_scalars(config, _SCHEMA_DICT))
_unknown = unknown_keys(config, _SCHEMA_DICT)
if _unknown:
    raise WorkflowError("invalid configuration:\n  " + "\n  ".join(_unknown))
validate(config, schema="../schemas/config.schema.yaml")


def validate_config(c):
    validate(c, schema="../schemas/config.schema.yaml")


# The datasets of this run: {name: its configuration}. With `datasets:` (a study), each
# entry is the top-level configuration, then its preset (`configfile:`), then its own keys,
# validated like the top level; without it, the one dataset of today's keys.
try:
    DATASETS = dataset_configs(config, _SCHEMA_DICT, validate_config)
except ValueError as exc:
    raise WorkflowError(f"invalid configuration:\n  {exc}")
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
# Every model of any dataset: its weights are checked, and downloaded, once.
MODEL_NAMES = list(dict.fromkeys(m for c in DATASETS.values() for m in c["models"]))
BUILTIN_MODELS = [m for m in MODEL_NAMES if m in MODELS]
# How often a failed job is tried again (with more memory and time: resources.smk).
RETRIES = config["retries"]


def dconf(wildcards):
    """The configuration of the job's dataset."""
    return DATASETS[wildcards.dataset]


def per_dataset(settings):
    """params for a rule: ``settings(c)`` of the job's dataset configuration ``c``."""
    return lambda wildcards: settings(dconf(wildcards))


def _check_dataset(name, c, at):
    """The checks of one dataset's configuration; ``at`` prefixes the keys it names."""
    problems = []
    if is_protocol(c):
        if not PROTOCOLS[name]:
            problems.append(
                f"{at}protocols: dataset_format protocol needs at least one entry under "
                "protocols: (file, format, images; config/README.md)"
            )
        for p in PROTOCOLS[name]:
            if not Path(p.file).is_file():
                problems.append(
                    f"{at}protocols.{p.name}.file: {p.file!r} does not exist"
                )
            if (
                not PROTOCOL_FORMATS[p.format].images_inside
                and not Path(p.images).is_dir()
            ):
                problems.append(
                    f"{at}protocols.{p.name}.images: folder {p.images!r} does not exist "
                    f"(format {p.format} reads the images from a folder)"
                )
    elif c["dataset_format"] == "demo":
        demo = Path(c["dataset_path"])
        if not is_demo_folder(demo):
            problems.append(
                f"{at}dataset_path: {str(demo)!r} holds files that are not a demo drawn by "
                "this workflow; the demo draws its images into dataset_path, so give it an "
                "empty or new folder (e.g. resources/demo)"
            )
    else:
        path = Path(c["dataset_path"])
        want_file = c["dataset_format"] == "csv"
        if not (path.is_file() if want_file else path.is_dir()):
            kind = "CSV file" if want_file else "folder"
            problems.append(
                f"{at}dataset_path: {kind} {str(path)!r} does not exist "
                f"(dataset_format {c['dataset_format']!r} needs a {kind})"
            )
    if c["comparisons"]["age_bins"][0] != 0:
        problems.append(
            f"{at}comparisons.age_bins: {c['comparisons']['age_bins']} must be left edges "
            "starting at 0 (e.g. [0, 11, 21, 31, 41, 51, 61, 71] for 0-10, 11-20, ..., 71+); "
            "earlier versions read them as upper edges"
        )
    unknown = [e for e in c["attributes"]["estimators"] if e not in ESTIMATORS]
    if unknown:
        problems.append(
            f"{at}attributes.estimators: unknown estimator(s) {unknown}; "
            f"known: {', '.join(sorted(ESTIMATORS))}"
        )
    if not c["models"] and not estimator_names(c):
        problems.append(
            f"{at}models: empty, and attributes are not enabled: nothing to run for "
            f"dataset {name!r}"
        )
    return problems


def _check_config():
    """Checks JSON Schema cannot express; each names the key and what is allowed."""
    problems = []
    for name, c in DATASETS.items():
        problems += _check_dataset(name, c, f"datasets.{name}." if STUDY else "")
    demo_paths = [
        c["dataset_path"] for c in DATASETS.values() if c["dataset_format"] == "demo"
    ]
    if len(set(demo_paths)) < len(demo_paths):
        problems.append(
            "datasets: two demo datasets draw into the same dataset_path; give each its own"
        )
    custom = set(config["custom_models"])
    for m in MODEL_NAMES:
        if m not in MODELS and m not in custom:
            problems.append(
                f"models: unknown model {m!r}; known: {', '.join(sorted(MODELS))} "
                "(a model made by your own rule must also be listed under custom_models)"
            )
    for env, py in config["python_envs"].items():
        if not Path(py).exists():
            problems.append(
                f"python_envs.{env}: interpreter {py!r} does not exist "
                f"(create it with: scripts/make-venv {env})"
            )
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
