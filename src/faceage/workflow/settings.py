"""How a run's configuration is resolved: one order, the same for one dataset and a study.

Each dataset's settings are built from these layers, each overriding the ones before it
(mappings merge key by key, anything else is replaced):

1. the schema's defaults (workflow/schemas/config.schema.yaml): the defaults for real data;
2. the dataset's preset: ``configfile:`` under ``datasets.<name>`` (a YAML file such as
   config/fgnet.yaml). In a one-dataset run the preset is the file given with
   ``--configfile``, so it is layer 3;
3. the top level of the user's configuration (the ``--configfile`` files in order, or the
   ``config:`` a module deployment hands over), ``datasets`` left out;
4. the dataset's own keys under ``datasets.<name>``;
5. the command line (``--config``), last: what was typed last wins, in a study for every
   dataset.

Why this order: the more specific a layer, the later it comes (a preset is a starting point,
the user's file says what this study wants, a dataset's own keys say what that dataset
needs), and the command line is the user's last word. With no configuration at all (no
``--configfile``, and no dataset named by ``--config``) the demo preset (config/demo.yaml) is
the preset; it is never a layer of any other run.

Also here: the checks a schema cannot express (names that stay inside results/, keys given
twice in a file, files and folders that must exist, interpreters that must run), and the
provenance written beside each dataset's results (the faceage version and the git commit).
"""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import yaml

from faceage.configcheck import coerce_cli_scalars, merge, unknown_keys

# Settings of the whole run, not of one dataset: a `datasets:` entry or a preset cannot set
# them.
RUN_KEYS = ("datasets", "python_envs", "weights_dir", "custom_models", "retries", "study")
# Names taken under results/: results/study/ holds a study's summary.
RESERVED_NAMES = ("study", "models")
# The keys that name the dataset a one-dataset run reads (their presence means "not the
# demo").
DATASET_KEYS = ("dataset_format", "dataset_path", "datasets")


class ConfigError(ValueError):
    """A configuration that cannot run: the message names each key and what is allowed."""


def schema_message(exc: Exception) -> str:
    """The schema's own message of a failed validation (Snakemake's first line, "Error
    validating config file.", says nothing), as one indented block."""
    lines = [x for x in str(exc).splitlines() if x.strip()]
    if lines and lines[0].startswith("Error validating"):
        lines = lines[1:]
    return "\n    ".join(lines) if lines else str(exc)


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader that refuses a key given twice in one mapping (YAML itself keeps the
    last silently)."""


def _mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise ConfigError(
                f"{key_node.start_mark.name}:{line}: key {key!r} is given twice (first on "
                f"line {seen[key]}); YAML would keep only the last"
            )
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(path: str | Path) -> dict:
    """A configuration file as a dict; ConfigError naming the file and line for a key given
    twice, a file that is not YAML or not a mapping."""
    path = Path(path)
    try:
        with path.open() as fh:
            data = yaml.load(fh, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a configuration file holds a mapping of keys")
    return data


def name_problem(name: str, where: str) -> str | None:
    """Why ``name`` cannot name a dataset (results/<name>/), or None. A name must stay inside
    results/: `.`, `..`, and anything with a path separator are refused, as are the reserved
    names."""
    name = str(name)
    root = Path("/results")
    if (
        not name
        or "/" in name
        or "\\" in name
        or name.strip(".") == ""
        or (root / name).resolve().parent != root
    ):
        return (
            f"{where}: {name!r} would write outside results/; a dataset name is letters, "
            "digits and _.- (not only dots)"
        )
    if name in RESERVED_NAMES:
        return f"{where}: {name!r} is taken (results/{name}/); choose another name"
    return None


# Keys renamed or merged away (old dotted path -> new dotted path): a configuration that still
# names one fails with a message naming the new key (CHANGELOG, "Migration"), not the schema's
# generic "unknown key".
RENAMED_KEYS = {
    "verification.far_levels": "verification.fmr_levels",
}


def renamed_key_problems(config: dict, prefix: str = "") -> list[str]:
    """One message per key of ``config`` that :data:`RENAMED_KEYS` lists."""
    problems = []
    for old, new in RENAMED_KEYS.items():
        node, parts = config, old.split(".")
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and parts[-1] in node:
            problems.append(
                f"{prefix}{old}: renamed; set {new} instead (one list of FMR levels for every "
                "FNMR-at-FMR figure: ISO/IEC 19795-1 FMR, formerly FAR; CHANGELOG.md, Migration)"
            )
    return problems


def _known_keys(config: dict, schema: dict, prefix: str = "") -> list[str]:
    """:func:`unknown_keys` with a renamed key's message in place of "unknown key"."""
    renamed = renamed_key_problems(config, prefix)
    old = tuple(f"{prefix}{k}:" for k in RENAMED_KEYS)
    return renamed + [p for p in unknown_keys(config, schema, prefix) if not p.startswith(old)]


def _without(config: dict, keys) -> dict:
    return {k: copy.deepcopy(v) for k, v in config.items() if k not in keys}


def uses_demo(config: dict, configfiles, is_module: bool) -> bool:
    """Whether the run is the bundled demo: no --configfile, no module config, and no
    dataset named on the command line."""
    return not configfiles and not is_module and not any(k in config for k in DATASET_KEYS)


def resolve(
    config: dict,
    *,
    schema: dict,
    validate,
    cli: dict | None = None,
    demo_preset: str | Path | None = None,
    read_yaml=load_yaml,
) -> tuple[dict, dict[str, dict]]:
    """(the run's configuration, {dataset name: its resolved configuration}).

    ``config`` is what Snakemake hands the workflow: the --configfile files with ``cli``
    (--config) merged in. ``validate(c)`` fills in the schema's defaults and raises on a bad
    value. ``demo_preset``: the demo's file when the run is the demo (:func:`uses_demo`).
    Raises ConfigError naming every problem.
    """
    cli = coerce_cli_scalars(dict(cli or {}), schema)
    config = coerce_cli_scalars(dict(config), schema)
    problems = []
    if demo_preset is not None:
        config = merge(read_yaml(demo_preset), config)
    problems += _known_keys(config, schema)
    # every name, before the schema (whose pattern message names no key); a name left empty
    # becomes the dataset_format's, always a valid one
    datasets = config.get("datasets")
    named = [(n, f"datasets.{n}") for n in datasets] if isinstance(datasets, dict) else []
    if config.get("dataset"):
        named.append((config["dataset"], "dataset"))
    problems += [p for p in (name_problem(n, where) for n, where in named) if p]
    if problems:
        raise ConfigError("\n  ".join(problems))
    run = copy.deepcopy(config)
    try:
        validate(run)
    except Exception as exc:  # the schema's own message
        raise ConfigError(schema_message(exc)) from None
    top = _without(config, ("datasets",))
    command_line = _without(cli, ("datasets",))
    out = {}
    if not run["datasets"]:
        if not run["dataset_format"]:
            raise ConfigError(
                "dataset_format: not set, so the workflow does not know how to read your data. "
                "Give a preset (--configfile config/fgnet.yaml, config/agedb.yaml, "
                "config/cacd.yaml), or --config dataset_format=<demo|agedb|cacd|fgnet|utkface|"
                "folders|csv|protocol> dataset_path=<folder> (config/README.md); the demo runs "
                "with no configuration at all (make demo)"
            )
        name = run["dataset"] or run["dataset_format"]
        run["dataset"] = name
        out[name] = run
        return run, out
    for name, entry in config["datasets"].items():
        where = f"datasets.{name}"
        entry = coerce_cli_scalars(dict(entry or {}), schema)
        layers = []
        preset = entry.pop("configfile", None)
        if preset is not None:
            path = Path(str(preset))
            if not path.is_file():
                problems.append(f"{where}.configfile: {str(path)!r} does not exist")
                continue
            try:
                layers.append((f"{where}.configfile ({path})", read_yaml(path)))
            except ConfigError as exc:
                problems.append(f"{where}.configfile: {exc}")
                continue
        layers += [("", top), (where, entry), ("", command_line)]
        merged = {}
        for label, layer in layers:
            if label:
                problems += [
                    f"{label}: {k} is a setting of the whole run; set it at the top level"
                    for k in RUN_KEYS
                    if k in layer
                ]
                problems += _known_keys(layer, schema, f"{label}.")
            merged = merge(merged, _without(layer, RUN_KEYS + ("dataset",)))
        for key in RUN_KEYS:
            if key in run and key != "datasets":
                merged[key] = copy.deepcopy(run[key])
        merged["dataset"] = name
        merged["datasets"] = {}
        try:
            validate(merged)
        except Exception as exc:
            problems.append(f"{where}: {schema_message(exc)}")
            continue
        if not merged["dataset_format"]:
            problems.append(
                f"{where}.dataset_format: not set (in the entry, its preset or the top level)"
            )
            continue
        out[name] = merged
    if problems:
        raise ConfigError("\n  ".join(problems))
    return run, out


def git_commit(folder: str | Path) -> str:
    """The commit of the checkout holding ``folder`` (with ``-dirty`` when its tracked files
    differ from it), or "not a checkout". A deployed module's package is unpacked from its git
    source into ``.snakemake/faceage-src/<commit>/`` (workflow/rules/config.smk): that commit,
    not the one of whatever repository the working directory is in."""
    path = Path(folder)
    if path.parent.name == "faceage-src" and re.fullmatch(r"[0-9a-f]{40}", path.name):
        return path.name
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        if head.returncode != 0:
            return "not a checkout"
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return "not a checkout"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def known_envs() -> list[str]:
    """The environments a job can run in: every model's and estimator's (envs/<env>.yaml)."""
    from faceage.attributes import ESTIMATORS, get_estimator
    from faceage.models import MODELS, get_adapter

    envs = {get_adapter(m).env for m in MODELS} | {get_estimator(e).env for e in ESTIMATORS}
    return sorted(envs)


def interpreter_problem(env: str, python: str) -> str | None:
    """Why ``python`` cannot run the jobs of environment ``env`` (it is run with --version)."""
    where = f"python_envs.{env}"
    path = Path(python)
    if not path.exists():
        return (
            f"{where}: interpreter {python!r} does not exist "
            f"(create it with: scripts/make-venv {env})"
        )
    try:
        proc = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{where}: {python!r} is not a Python interpreter ({exc})"
    said = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or not said.startswith("Python "):
        return f"{where}: {python!r} is not a Python interpreter ({python} --version: {said!r})"
    return None


def run_problems(run: dict) -> list[str]:
    """The checks of the run's own settings: python_envs (known environments, interpreters
    that run) and weights_dir (a folder, or not there yet)."""
    problems = []
    envs = known_envs()
    for env, python in run["python_envs"].items():
        if env not in envs:
            problems.append(
                f"python_envs.{env}: unknown environment; known: {', '.join(envs)} "
                "(envs/<env>.yaml)"
            )
            continue
        problem = interpreter_problem(env, str(python))
        if problem:
            problems.append(problem)
    weights = Path(run["weights_dir"])
    if weights.exists() and not weights.is_dir():
        problems.append(
            f"weights_dir: {str(weights)!r} is a file; it must be a folder (or not exist yet)"
        )
    return problems


def dataset_problems(name: str, c: dict, protocols: list, at: str = "") -> list[str]:
    """The checks of one dataset's resolved configuration ``c`` (``protocols``: its parsed
    protocol entries); ``at`` prefixes the keys named."""
    from faceage.attributes import ESTIMATORS
    from faceage.demo import is_demo_folder
    from faceage.protocols.formats import FORMATS

    from .datasets import estimator_names, is_protocol

    problems = external_problems(c, at)
    if is_protocol(c):
        if not protocols:
            problems.append(
                f"{at}protocols: dataset_format protocol needs at least one entry under "
                "protocols: (file, format, images; config/README.md)"
            )
        for p in protocols:
            if not Path(p.file).is_file():
                problems.append(f"{at}protocols.{p.name}.file: {p.file!r} does not exist")
            if not FORMATS[p.format].images_inside and not Path(p.images).is_dir():
                problems.append(
                    f"{at}protocols.{p.name}.images: folder {p.images!r} does not exist "
                    f"(format {p.format} reads the images from a folder)"
                )
    elif not c["dataset_path"]:
        problems.append(
            f"{at}dataset_path: not set (the folder of images, or the CSV file for csv)"
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


def dataset_warnings(c: dict, protocols: list, at: str = "") -> list[str]:
    """What in dataset ``c`` runs, but probably not as meant: a protocol run whose aligned
    no-face fallback has no cleaning detector to learn its box from (the box would be the whole
    image), unless every protocol's images are aligned crops (then nothing is detected)."""
    from .datasets import no_face_fallback

    unaligned = [p.name for p in protocols if not p.aligned]
    if not (
        c["models"]
        and unaligned
        and no_face_fallback(c) == "aligned"
        and c["clean"]["detector"] == "none"
    ):
        return []
    auto = " (auto, in a protocol run)" if c["embeddings"]["no_face_fallback"] == "auto" else ""
    return [
        f"{at}clean.detector: none, but embeddings.no_face_fallback is aligned{auto}: the "
        "aligned fallback places its box like the faces the cleaning detector found in the "
        f"dataset, and with none it is the whole image (protocols: {', '.join(unaligned)}). "
        "Unless these images are aligned crops (then set aligned: true on the protocol), set "
        "clean.detector: hog (the default) or mmod"
    ]


def external_problems(c: dict, at: str = "") -> list[str]:
    """The checks of a dataset's external models (the ones it lists under models): each
    entry's files (faceage.external.entry_problems); scores only where pairs are made."""
    from faceage.external import entry_problems

    from .datasets import external_models, is_protocol, score_models

    problems = []
    for name, entry in external_models(c).items():
        problems += entry_problems(name, entry, at)
    if is_protocol(c):
        problems += [
            f"{at}external_models.{m}: a score file joins the dataset's pairs and operating "
            "pool; a protocol dataset scores its protocols' pairs from vectors (give "
            "embeddings: instead)"
            for m in score_models(c)
        ]
    return problems


def study_problems(run: dict, datasets: dict[str, dict], protocols: dict) -> list[str]:
    """Every check of a resolved run: each dataset's, the run's own, and those across
    datasets (demo folders, model names)."""
    from faceage.models import MODELS

    study = bool(run["datasets"])
    problems = []
    for name, c in datasets.items():
        problems += dataset_problems(name, c, protocols[name], f"datasets.{name}." if study else "")
    demo_paths = [c["dataset_path"] for c in datasets.values() if c["dataset_format"] == "demo"]
    if len(set(demo_paths)) < len(demo_paths):
        problems.append(
            "datasets: two demo datasets draw into the same dataset_path; give each its own"
        )
    custom = set(run["custom_models"])
    external = {m for c in datasets.values() for m in c["external_models"]}
    names = dict.fromkeys(m for c in datasets.values() for m in c["models"])
    for m in names:
        if m not in MODELS and m not in custom and m not in external:
            problems.append(
                f"models: unknown model {m!r}; known: {', '.join(sorted(MODELS))} "
                "(a model made by your own rule must also be listed under custom_models, one "
                "read from your file under external_models)"
            )
    for m in sorted(external & (set(MODELS) | custom)):
        problems.append(
            f"external_models.{m}: {m!r} is also a {'built-in' if m in MODELS else 'custom'} "
            "model; give the model from your file another name"
        )
    return problems + run_problems(run)


def provenance(c: dict, commit: str) -> dict:
    """What results/<dataset>/settings.yaml records: the faceage version, the commit and the
    dataset's resolved configuration."""
    from faceage import __version__

    return {"faceage_version": __version__, "git_commit": commit, "configuration": _sorted(c)}


def _sorted(value):
    """``value`` with every mapping's keys in sorted order: the same settings give the same
    record (and the same rule params) whichever layer set a key first."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def weight_groups(datasets: dict[str, dict]) -> dict[str, dict[str, str]]:
    """{model: {dataset: its group}}: datasets whose settings of a model are the same share
    one weights check and download, named by the first of them (the group); a dataset with a
    pack or weights of its own gets its own, from the settings that embed it."""
    import json

    groups: dict[str, dict[str, str]] = {}
    for name, c in datasets.items():
        for model in c["models"]:
            own = json.dumps(c["model_settings"].get(model, {}), sort_keys=True)
            firsts = groups.setdefault(model, {})
            seen = {
                json.dumps(datasets[g]["model_settings"].get(model, {}), sort_keys=True): g
                for g in firsts.values()
            }
            firsts[name] = seen.get(own, name)
    return groups
