# Shared by every stage: config validation, paths, and the small functions
# that rules call by name.
import json
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate
from snakemake_interface_executor_plugins.settings import DeploymentMethod

# The package lives in src/; make it importable in every job (conda envs,
# venvs and cluster jobs alike) without installing it.
# The repository root, found from this file (works when another Snakefile includes ours).
ROOT = Path(workflow.current_basedir).parents[1]
_SRC = str(ROOT / "src")
sys.path.insert(0, _SRC)

from faceage.models import MODELS, get_adapter  # noqa: E402
import yaml  # noqa: E402

from faceage.configcheck import coerce_cli_scalars, unknown_keys  # noqa: E402
from faceage.runtime import export_src_path  # noqa: E402

# Numbers and booleans typed inside --config dicts arrive as strings: read them
# as the schema wants. Then unknown keys, named with what is allowed (the schema's
# own message prints the whole schema), then the schema (types, ranges; defaults).
_SCHEMA = Path(workflow.current_basedir, "../schemas/config.schema.yaml")
_SCHEMA_DICT = yaml.safe_load(_SCHEMA.read_text())
config.update(coerce_cli_scalars(config, _SCHEMA_DICT))
_unknown = unknown_keys(config, _SCHEMA_DICT)
if _unknown:
    raise WorkflowError("invalid configuration:\n  " + "\n  ".join(_unknown))
validate(config, schema="../schemas/config.schema.yaml")

export_src_path(_SRC)

from faceage.demo import is_demo_folder  # noqa: E402

DS = config["dataset"]
RESULTS = f"results/{DS}"
# A protocol run (dataset_format: protocol): the dataset is the images the
# configured protocols name; the study's pair stages are not targeted.
PROTOCOL_RUN = config["dataset_format"] == "protocol"
from faceage.protocols.dataset import protocols_from_config  # noqa: E402

try:
    PROTOCOLS = protocols_from_config(config["protocols"])
except ValueError as exc:
    raise WorkflowError(f"invalid configuration:\n  {exc}")
PROTOCOL_NAMES = [p.name for p in PROTOCOLS]
SHARDS = list(range(config["shards"]))
MODEL_NAMES = list(config["models"])
BUILTIN_MODELS = [m for m in MODEL_NAMES if m in MODELS]
TARGETS = []


def _check_config():
    """Checks JSON Schema cannot express; each names the key and what is allowed."""
    problems = []
    if PROTOCOL_RUN:
        if not PROTOCOLS:
            problems.append(
                "protocols: dataset_format protocol needs at least one entry under protocols: "
                "(file, format, images; config/README.md)"
            )
        for p in PROTOCOLS:
            if not Path(p.file).is_file():
                problems.append(f"protocols.{p.name}.file: {p.file!r} does not exist")
            if p.format != "insightface_bin" and not Path(p.images).is_dir():
                problems.append(
                    f"protocols.{p.name}.images: folder {p.images!r} does not exist "
                    f"(format {p.format} reads the images from a folder)"
                )
    elif config["dataset_format"] == "demo":
        demo = Path(config["dataset_path"])
        if not is_demo_folder(demo):
            problems.append(
                f"dataset_path: {str(demo)!r} holds files that are not a demo drawn by this "
                "workflow; the demo draws its images into dataset_path, so give it an empty or "
                "new folder (e.g. resources/demo)"
            )
    else:
        path = Path(config["dataset_path"])
        want_file = config["dataset_format"] == "csv"
        if not (path.is_file() if want_file else path.is_dir()):
            kind = "CSV file" if want_file else "folder"
            problems.append(
                f"dataset_path: {kind} {str(path)!r} does not exist "
                f"(dataset_format {config['dataset_format']!r} needs a {kind})"
            )
    if config["comparisons"]["age_bins"][0] != 0:
        problems.append(
            f"comparisons.age_bins: {config['comparisons']['age_bins']} must be left edges starting at 0 "
            "(e.g. [0, 11, 21, 31, 41, 51, 61, 71] for 0-10, 11-20, ..., 71+); earlier versions read "
            "them as upper edges"
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


def using_conda():
    return DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method


def dataset_input(wildcards):
    """The dataset folder or CSV; for the demo, the folder its images are drawn into (dataset_path)."""
    return config["dataset_path"]


def model_env(model):
    return get_adapter(model).env


def env_file(env):
    """envs/<env>.yaml, absolute (rules in workflow/rules/ resolve relative paths there)."""
    return str(ROOT / "envs" / f"{env}.yaml")


def env_python(env):
    """The interpreter of an environment: its conda env's, its venv's (python_envs), or ours."""
    if using_conda():
        return "python"
    return config["python_envs"].get(env, sys.executable)


def model_conda_env(wildcards):
    return env_file(model_env(wildcards.model))


def model_python(wildcards):
    return env_python(model_env(wildcards.model))


def model_settings(model):
    return config["model_settings"].get(model, {})


def model_settings_json(wildcards):
    return json.dumps(model_settings(wildcards.model), sort_keys=True)


def model_batch_size(wildcards):
    return model_settings(wildcards.model).get("batch_size", 32)


def model_fit_images(wildcards):
    return model_settings(wildcards.model).get("fit_images", 2000)


def overrides_input(wildcards):
    path = config["clean"]["overrides"]
    return [path] if path and Path(path).is_file() else []


def score_files(wildcards):
    return {m: f"{RESULTS}/scores/{m}.tsv" for m in MODEL_NAMES}


def protocol_files(wildcards):
    """The protocol files a protocol run reads (their images folders are found by walking)."""
    return [p.file for p in PROTOCOLS]


def protocol_entry(wildcards):
    return next(p for p in PROTOCOLS if p.name == wildcards.protocol)


def no_face_fallback():
    """embeddings.no_face_fallback, with auto resolved: centre_crop in protocol runs, else none."""
    mode = config["embeddings"]["no_face_fallback"]
    if mode == "auto":
        return "centre_crop" if PROTOCOL_RUN else "none"
    return mode


def log_path(rule_name, *parts):
    """logs/<rule>/<dataset>[_<part>...].log"""
    name = "_".join((DS,) + parts)
    return f"logs/{rule_name}/{name}.log"


def benchmark_path(rule_name, *parts):
    """benchmarks/<rule>/<dataset>[_<part>...].tsv"""
    name = "_".join((DS,) + parts)
    return f"benchmarks/{rule_name}/{name}.tsv"


# --- age and gender (attributes.smk, docs/attributes.md) ---
from faceage.attributes import ESTIMATORS, get_estimator  # noqa: E402

ATTR = config["attributes"]
ESTIMATOR_NAMES = list(ATTR["estimators"]) if ATTR["enabled"] else []


def _check_attributes_config():
    unknown = [e for e in ATTR["estimators"] if e not in ESTIMATORS]
    if unknown:
        raise WorkflowError(
            f"attributes.estimators: unknown estimator(s) {unknown}; "
            f"known: {', '.join(sorted(ESTIMATORS))}"
        )


_check_attributes_config()


def estimator_conda_env(wildcards):
    return env_file(get_estimator(wildcards.estimator).env)


def estimator_python(wildcards):
    return env_python(get_estimator(wildcards.estimator).env)


def estimator_settings_json(wildcards):
    return json.dumps(ATTR["settings"].get(wildcards.estimator, {}), sort_keys=True)


def overrides_arg(wildcards):
    files = overrides_input(wildcards)
    return files[0] if files else ""


def attribute_summaries(wildcards):
    return expand(
        f"{RESULTS}/attributes/{{estimator}}/summary.tsv", estimator=ESTIMATOR_NAMES
    )


def explain_failure(log):
    """After a failed run: one line for the failure users most need explained."""
    clean = Path(f"{RESULTS}/clean/manifest.tsv")
    if clean.is_file() and sum(1 for _ in clean.open()) <= 1:
        print(
            f"ERROR: no image survived cleaning; see {RESULTS}/clean/cleaning_report.tsv "
            f"and {RESULTS}/clean/cleaning_summary.tsv",
            file=sys.stderr,
        )


def warn_depleted_benchmarks(log):
    """After a run: print every model x protocol whose accuracy was withheld, with the counts."""
    table = Path(f"{RESULTS}/verification/benchmarks.tsv")
    if not (PROTOCOL_RUN and table.is_file()):
        return
    import pandas as pd

    t = pd.read_csv(table, sep="\t", keep_default_na=False)
    for _, r in t[t["accuracy_note"] != ""].iterrows():
        print(
            f"WARNING: protocol {r['protocol']}, model {r['model']}: no accuracy reported: "
            f"{r['accuracy_note']} ({r['n_pairs']} pairs: {r['n_genuine']} genuine, "
            f"{r['n_impostor']} impostor, {r['n_unscored']} unscored)",
            file=sys.stderr,
        )


wildcard_constraints:
    shard=r"\d+",
    model=r"[A-Za-z0-9_]+",
    protocol=r"[A-Za-z0-9_.-]+",


# Rules that run in the Snakemake process itself, never as cluster jobs (seconds of work, or
# downloads: compute nodes may have no internet) say so next to them: `localrule: True`.
localrules:
    all,
