# Paths and targets: where each rule writes its log and benchmark, the input functions
# rules name, the default target (final_outputs, asked for by rule all) and the messages
# printed after a run.
import re

from faceage import paths

# Every rule's files are under results/<dataset>/ (the dataset wildcard; DATASETS).
RESULTS = "results/{dataset}"
VER = f"{RESULTS}/verification"
STUDY_DIR = "results/study"


def log_path(rule_name, *parts):
    """logs/<rule>/<dataset>[_<part>...].log"""
    return paths.log_path(rule_name, "{dataset}", *parts)


def benchmark_path(rule_name, *parts):
    """benchmarks/<rule>/<dataset>[_<part>...].tsv"""
    return paths.benchmark_path(rule_name, "{dataset}", *parts)


def speed_path(rule_name, *parts):
    """benchmarks/<rule>/<dataset>[_<part>...].json: a job's own speed record."""
    return paths.speed_path(rule_name, "{dataset}", *parts)


def results(wildcards):
    """results/<dataset> of a job (input functions build file names with it)."""
    return f"results/{wildcards.dataset}"


# Input functions the rules name.


def overrides_input(wildcards):
    """The dataset's clean.overrides file when it exists; the attribute rules use it too."""
    path = dconf(wildcards)["clean"]["overrides"]
    return [path] if path and Path(path).is_file() else []


def score_files(wildcards):
    """The models' score files, in the dataset's model order: a rule that takes them gives its
    step ``models`` too (faceage.steps.Files.by_model), which no step reads out of a name.
    """
    return [
        f"{results(wildcards)}/scores/{m}.parquet"
        for m in dataset_models(dconf(wildcards))
    ]


def operating_score_files(wildcards):
    """The models' scores of the operating impostor pool, in the dataset's model order."""
    r = results(wildcards)
    return [
        f"{r}/scores/operating/{m}.parquet" for m in dataset_models(dconf(wildcards))
    ]


def embedding_files(wildcards):
    """The models' merged embeddings, in the dataset's model order."""
    r = results(wildcards)
    return [f"{r}/embeddings/{m}.npz" for m in dataset_models(dconf(wildcards))]


def common_pairs_used(c):
    """Whether comparison.tsv (and the study) reads the tables on the common pairs: several
    models, and verification.comparison_pairs common."""
    return len(c["models"]) > 1 and c["verification"]["comparison_pairs"] == "common"


def comparison_inputs(wildcards):
    """Per-model tables of comparison.tsv: on the common pairs when several models run and
    verification.comparison_pairs is common (then also the common-pairs counts)."""
    c = dconf(wildcards)
    ver = f"{results(wildcards)}/verification"
    common = common_pairs_used(c)
    sub = "common/" if common else ""
    models = dataset_models(c)
    files = {
        "metrics": expand(f"{ver}/{{model}}/{sub}metrics.tsv", model=models),
        "ageing": expand(f"{ver}/{{model}}/{sub}ageing.tsv", model=models),
        "probe": expand(f"{ver}/{{model}}/age_probe.tsv", model=models),
    }
    if common:
        files["common"] = f"{ver}/paired/common_pairs.tsv"
    return files


def shard_files(pattern):
    """An input function: ``pattern`` (with {dataset} and {shard}) for every shard of the
    job's dataset, other wildcards kept."""

    def files(wildcards):
        return expand(
            pattern,
            dataset=wildcards.dataset,
            shard=shards(dconf(wildcards)),
            allow_missing=True,
        )

    return files


def embed_benchmarks(wildcards, path=benchmark_path):
    """{model: [file of shard 0, of shard 1, ...]} of the job's dataset: the timing step reads
    no file name."""
    c = dconf(wildcards)
    return {
        m: [
            path("embed", m, f"shard{s}").format(dataset=wildcards.dataset)
            for s in shards(c)
        ]
        for m in dataset_models(c)
        if m in MODELS
    }


def protocol_format(wildcards):
    protocols = PROTOCOLS[wildcards.dataset]
    return {"format": next(p.format for p in protocols if p.name == wildcards.protocol)}


def dataset_outputs(ds, c):
    """What `snakemake` with no target makes for dataset ``ds`` of configuration ``c``."""
    res = f"results/{ds}"
    ver = f"{res}/verification"
    models = dataset_models(c)
    out = [f"{res}/clean/cleaning_summary.tsv"]
    if models:
        out.append(f"{res}/tables/timing.tsv")
        out += expand(f"{res}/embeddings/{{model}}_vectors.csv", model=models)
    if models and c["tsv_export"] and not is_protocol(c):
        out.append(f"{res}/tsv/pairs.tsv")
        out += expand(f"{res}/tsv/scores/{{model}}.tsv", model=models)
    if is_protocol(c):
        return out + [f"{ver}/benchmarks.tsv"]
    if models:
        out += [
            f"{res}/tables/similarity_within_range.csv",
            f"{res}/plots/similarity_by_gap.png",
        ]
        out += expand(f"{res}/plots/projections_{{model}}.png", model=models)
    if models and c["verification"]["enabled"]:
        out += [f"{ver}/comparison.tsv", f"{ver}/metrics_by_gap.png"]
        if len(models) > 1:  # paired comparisons compare models
            out += [
                f"{ver}/paired/forest_auc.png",
                f"{ver}/paired/fnmr_by_gap.png",
                f"{ver}/paired/failure_to_enrol.png",
                f"{ver}/paired/by_gender.tsv",
            ]
        out += expand(
            [
                f"{ver}/{{model}}/roc_by_gap.png",
                f"{ver}/{{model}}/det.png",
                f"{ver}/{{model}}/fnmr_by_gap.png",
                f"{ver}/{{model}}/fnmr_by_year.png",
            ],
            model=models,
        )
    estimators = estimator_names(c)
    if estimators:
        out += expand(
            [
                f"{res}/attributes/{{estimator}}/review.tsv",
                f"{res}/attributes/{{estimator}}/age_table.tsv",
                f"{res}/plots/attributes_{{estimator}}_joint.png",
            ],
            estimator=estimators,
        )
        out.append(f"{res}/plots/attributes_speed_vs_mae.png")
    return out


def final_outputs():
    """What `snakemake` with no target makes, from the configuration alone: every dataset's
    outputs, and with `datasets:` the study summary."""
    out = [f for ds, c in DATASETS.items() for f in dataset_outputs(ds, c)]
    if STUDY:
        out += study_outputs()
    return out


# The study (study.smk): which datasets and models each of its inputs belongs to is handed to
# its step as records aligned with the input lists (no step parses a file name).


def _study_parts():
    """{input name: [(record, file), ...]} of every dataset in the run."""
    parts = {k: [] for k in ("models", "differences", "benchmarks", "attributes")}
    for ds, c in DATASETS.items():
        ver = f"results/{ds}/verification"
        models = dataset_models(c)
        if is_protocol(c) and models:
            parts["benchmarks"].append(({"dataset": ds}, f"{ver}/benchmarks.tsv"))
        elif models and c["verification"]["enabled"]:
            sub = "common/" if common_pairs_used(c) else ""
            for m in models:
                parts["models"].append(
                    ({"dataset": ds, "model": m}, f"{ver}/{m}/{sub}")
                )
            if len(models) > 1:
                parts["differences"].append(
                    ({"dataset": ds}, f"{ver}/paired/differences.tsv")
                )
        for e in estimator_names(c):
            parts["attributes"].append(
                (
                    {"dataset": ds, "estimator": e},
                    f"results/{ds}/attributes/{e}/summary.tsv",
                )
            )
    return parts


def study_inputs(wildcards):
    parts = _study_parts()
    folders = [f for _, f in parts["models"]]
    return {
        "metrics": [f"{f}metrics.tsv" for f in folders],
        "ageing": [f"{f}ageing.tsv" for f in folders],
        "conventions": [f"{f}conventions.json" for f in folders],
        **{
            k: [f for _, f in parts[k]]
            for k in ("differences", "benchmarks", "attributes")
        },
    }


def study_settings():
    parts = _study_parts()
    return {
        **{k: [r for r, _ in v] for k, v in parts.items()},
        "fmr": config["study"]["fmr"],
    }


def study_outputs():
    """The study's tables and figures (a run with datasets:)."""
    return [
        f"{STUDY_DIR}/{name}"
        for name in (
            "summary.tsv",
            "tables.md",
            "tables.tex",
            "by_gap.png",
            "forest.png",
        )
    ]


def explain_failure(log):
    """After a failed run: one line for the failure users most need explained."""
    for ds in DATASETS:
        res = f"results/{ds}"
        clean = Path(f"{res}/clean/manifest.tsv")
        if clean.is_file() and sum(1 for _ in clean.open()) <= 1:
            print(
                f"ERROR: no image survived cleaning; see {res}/clean/cleaning_report.tsv "
                f"and {res}/clean/cleaning_summary.tsv",
                file=sys.stderr,
            )


def warn_depleted_benchmarks(log):
    """After a run: print every model x protocol whose accuracy was withheld, with the counts."""
    import pandas as pd

    for ds in PROTOCOL_DATASETS:
        table = Path(f"results/{ds}/verification/benchmarks.tsv")
        if not table.is_file():
            continue
        t = pd.read_csv(table, sep="\t", keep_default_na=False)
        for _, r in t[t["accuracy_note"] != ""].iterrows():
            print(
                f"WARNING: protocol {r['protocol']}, model {r['model']}: no accuracy "
                f"reported: {r['accuracy_note']} ({r['n_pairs']} pairs: {r['n_genuine']} "
                f"genuine, {r['n_impostor']} impostor, {r['n_unscored']} unscored; "
                f"dataset {ds})",
                file=sys.stderr,
            )


onsuccess:
    warn_depleted_benchmarks(log)


onerror:
    explain_failure(log)


wildcard_constraints:
    dataset="|".join(re.escape(d) for d in DATASETS),
    shard=r"\d+",
    model="|".join(re.escape(m) for m in MODEL_NAMES) or "^$",
    protocol="|".join(re.escape(p.name) for ps in PROTOCOLS.values() for p in ps)
    or "^$",
