# Paths and targets: where each rule writes its log and benchmark, the input functions
# rules name, the default target (final_outputs, asked for by rule all) and the messages
# printed after a run.
from faceage import paths

RESULTS = f"results/{DS}"
VER = f"{RESULTS}/verification"


def log_path(rule_name, *parts):
    """logs/<rule>/<dataset>[_<part>...].log"""
    return paths.log_path(rule_name, DS, *parts)


def benchmark_path(rule_name, *parts):
    """benchmarks/<rule>/<dataset>[_<part>...].tsv"""
    return paths.benchmark_path(rule_name, DS, *parts)


def speed_path(rule_name, *parts):
    """benchmarks/<rule>/<dataset>[_<part>...].json: a job's own speed record."""
    return paths.speed_path(rule_name, DS, *parts)


# Input functions the rules name.


def overrides_input(wildcards):
    """config/overrides.tsv (clean.overrides) when it exists; the attribute rules use it too."""
    path = config["clean"]["overrides"]
    return [path] if path and Path(path).is_file() else []


def score_files(wildcards):
    """The models' score files, in MODEL_NAMES order: a rule that takes them gives its step
    ``models`` too (faceage.steps.Files.by_model), which no step reads out of a name."""
    return expand(f"{RESULTS}/scores/{{model}}.parquet", model=MODEL_NAMES)


def operating_score_files(wildcards):
    """The models' scores of the operating impostor pool, in MODEL_NAMES order."""
    return expand(f"{RESULTS}/scores/operating/{{model}}.parquet", model=MODEL_NAMES)


def embedding_files(wildcards):
    """The models' merged embeddings, in MODEL_NAMES order."""
    return expand(f"{RESULTS}/embeddings/{{model}}.npz", model=MODEL_NAMES)


def comparison_inputs(wildcards):
    """Per-model tables of comparison.tsv: on the common pairs when several models run and
    verification.comparison_pairs is common (then also the common-pairs counts)."""
    common = (
        len(MODEL_NAMES) > 1 and config["verification"]["comparison_pairs"] == "common"
    )
    sub = "common/" if common else ""
    files = {
        "metrics": expand(f"{VER}/{{model}}/{sub}metrics.tsv", model=MODEL_NAMES),
        "ageing": expand(f"{VER}/{{model}}/{sub}ageing.tsv", model=MODEL_NAMES),
        "probe": expand(f"{VER}/{{model}}/age_probe.tsv", model=MODEL_NAMES),
    }
    if common:
        files["common"] = f"{VER}/paired/common_pairs.tsv"
    return files


def embed_benchmarks(path=benchmark_path):
    """{model: [file of shard 0, of shard 1, ...]}: the timing step reads no file name."""
    return {m: [path("embed", m, f"shard{s}") for s in SHARDS] for m in BUILTIN_MODELS}


def protocol_format(wildcards):
    return {"format": next(p.format for p in PROTOCOLS if p.name == wildcards.protocol)}


def final_outputs():
    """What `snakemake` with no target makes, from the configuration alone."""
    out = [
        f"{RESULTS}/clean/cleaning_summary.tsv",
        f"{RESULTS}/tables/timing.tsv",
    ]
    out += expand(f"{RESULTS}/embeddings/{{model}}_vectors.csv", model=MODEL_NAMES)
    if config["tsv_export"] and not PROTOCOL_RUN:
        out.append(f"{RESULTS}/tsv/pairs.tsv")
        out += expand(f"{RESULTS}/tsv/scores/{{model}}.tsv", model=MODEL_NAMES)
    if PROTOCOL_RUN:
        return out + [f"{VER}/benchmarks.tsv"]
    out += [
        f"{RESULTS}/tables/similarity_within_range.csv",
        f"{RESULTS}/plots/similarity_by_gap.png",
    ]
    out += expand(f"{RESULTS}/plots/projections_{{model}}.png", model=MODEL_NAMES)
    if config["verification"]["enabled"]:
        out += [f"{VER}/comparison.tsv", f"{VER}/metrics_by_gap.png"]
        if len(MODEL_NAMES) > 1:  # paired comparisons compare models
            out += [
                f"{VER}/paired/forest_auc.png",
                f"{VER}/paired/fnmr_by_gap.png",
                f"{VER}/paired/failure_to_enrol.png",
                f"{VER}/paired/by_gender.tsv",
            ]
        out += expand(
            [
                f"{VER}/{{model}}/roc_by_gap.png",
                f"{VER}/{{model}}/det.png",
                f"{VER}/{{model}}/fnmr_by_gap.png",
                f"{VER}/{{model}}/fnmr_by_year.png",
            ],
            model=MODEL_NAMES,
        )
    if ESTIMATOR_NAMES:
        out += expand(
            [
                f"{RESULTS}/attributes/{{estimator}}/review.tsv",
                f"{RESULTS}/attributes/{{estimator}}/age_table.tsv",
                f"{RESULTS}/plots/attributes_{{estimator}}_joint.png",
            ],
            estimator=ESTIMATOR_NAMES,
        )
        out.append(f"{RESULTS}/plots/attributes_speed_vs_mae.png")
    return out


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
    table = Path(f"{VER}/benchmarks.tsv")
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


onsuccess:
    warn_depleted_benchmarks(log)


onerror:
    explain_failure(log)


wildcard_constraints:
    shard=r"\d+",
    model=r"[A-Za-z0-9_]+",
    protocol=r"[A-Za-z0-9_.-]+",
