"""Where the workflow writes: every output path of a dataset and of the study, named once.

:class:`Layout` names each file under ``results/<dataset>/`` and ``results/study/``, and (through
:mod:`faceage.paths`) each log and benchmark. Its methods take a dataset's name, or the
``{dataset}`` wildcard itself: ``Layout().results("{dataset}")`` is the pattern the rules'
``output:`` lines start with (``RESULTS`` in paths.smk), ``Layout().results("demo")`` the folder
of dataset demo. What a dataset's outputs are follows from its resolved configuration ``c``
alone (:mod:`faceage.workflow.datasets`).

Also here: the messages printed after a run, which read the files the layout names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from faceage import paths
from faceage.workflow.datasets import (
    common_pairs_used,
    dataset_models,
    estimator_names,
    external_models,
    is_protocol,
    shards,
    vector_models,
)

# The study's tables and figures (results/study/), in the order the default target lists them.
STUDY_OUTPUTS = ("summary.tsv", "tables.md", "tables.tex", "by_gap.png", "forest.png")
# The study's inputs: which records and files each of its input lists holds.
STUDY_PARTS = ("models", "differences", "benchmarks", "attributes")


def fill(pattern: str, **values) -> str:
    """``pattern`` with the wildcards named in ``values`` filled in, the others kept as they
    are (``{model}`` stays ``{model}``): Snakemake's ``expand(..., allow_missing=True)`` for
    one combination."""
    return re.sub(
        r"\{(\w+)\}",
        lambda m: str(values[m[1]]) if m[1] in values else m[0],
        pattern,
    )


def one_of(names) -> str:
    """A wildcard constraint that matches exactly one of ``names`` (``^$``, nothing, when
    there are none)."""
    return "|".join(re.escape(n) for n in names) or "^$"


@dataclass(frozen=True)
class Layout:
    """The files of a run under ``root`` (results/, relative to the working directory)."""

    root: str = "results"

    # A dataset's folders and tables.

    def results(self, ds: str) -> str:
        """results/<dataset>: every file of dataset ``ds`` is under it."""
        return f"{self.root}/{ds}"

    def verification(self, ds: str) -> str:
        return f"{self.results(ds)}/verification"

    def settings_record(self, ds: str) -> str:
        """results/<dataset>/settings.yaml: the resolved settings, faceage version and git
        commit (rule run_settings)."""
        return f"{self.results(ds)}/settings.yaml"

    def manifest(self, ds: str) -> str:
        """The manifest of every image read (its ``shard`` column shares them out)."""
        return f"{self.results(ds)}/manifest.tsv"

    def clean_manifest(self, ds: str) -> str:
        """The manifest of the images that survived cleaning."""
        return f"{self.results(ds)}/clean/manifest.tsv"

    def cleaning_report(self, ds: str) -> str:
        return f"{self.results(ds)}/clean/cleaning_report.tsv"

    def cleaning_summary(self, ds: str) -> str:
        return f"{self.results(ds)}/clean/cleaning_summary.tsv"

    def benchmarks_table(self, ds: str) -> str:
        """A protocol dataset's benchmarks.tsv (every model x protocol)."""
        return f"{self.verification(ds)}/benchmarks.tsv"

    def common_pairs(self, ds: str) -> str:
        return f"{self.verification(ds)}/paired/common_pairs.tsv"

    def differences(self, ds: str) -> str:
        return f"{self.verification(ds)}/paired/differences.tsv"

    def attribute_summary(self, ds: str, estimator: str) -> str:
        return f"{self.results(ds)}/attributes/{estimator}/summary.tsv"

    def weights_record(self, model: str, group: str) -> str:
        """What check_weights found of ``model``'s weights for a group of datasets that embed
        with the same settings of it (files, sizes, SHA-256)."""
        return f"{self.root}/models/{model}/{group}/weights.json"

    # Per-model files, in the dataset's model order (a step that takes them is given
    # ``models`` too: faceage.steps.Files.by_model; no step reads a model out of a name).

    def score_files(self, ds: str, c: dict) -> list[str]:
        """The models' score files of the pairs."""
        return [f"{self.results(ds)}/scores/{m}.parquet" for m in dataset_models(c)]

    def operating_score_files(self, ds: str, c: dict) -> list[str]:
        """The models' scores of the operating impostor pool."""
        r = self.results(ds)
        return [f"{r}/scores/operating/{m}.parquet" for m in dataset_models(c)]

    def embedding_files(self, ds: str, c: dict) -> list[str]:
        """The models' merged embeddings (models with vectors)."""
        r = self.results(ds)
        return [f"{r}/embeddings/{m}.npz" for m in vector_models(c)]

    def external_report(self, ds: str, model: str) -> str:
        """What an external model's file matched: counts per reason, a few examples."""
        return f"{self.results(ds)}/external/{model}.tsv"

    def external_ids(self, ds: str, model: str) -> str:
        """Every id an external model's file and the dataset do not share, with the reason."""
        return f"{self.results(ds)}/external/{model}_ids.tsv"

    def exports(self, ds: str, model: str) -> str:
        """The folder of a model's score exports (``exports: [bob, pyeer]``)."""
        return f"{self.results(ds)}/exports/{model}"

    def export_files(self, ds: str, c: dict, model: str) -> dict[str, str]:
        """{output name: file} of the export formats ``exports`` names
        (:data:`faceage.exports.FILES`)."""
        from faceage.exports import FILES

        folder = self.exports(ds, model)
        return {n: f"{folder}/{f}" for fmt in c["exports"] for n, f in FILES[fmt].items()}

    def model_tables(self, ds: str, c: dict) -> str:
        """The folder pattern (``{model}``) of a model's tables that comparison.tsv and the
        study read: on the common pairs (``.../{model}/common/``) when
        :func:`~faceage.workflow.datasets.common_pairs_used`, else the model's own."""
        sub = "common/" if common_pairs_used(c) else ""
        return f"{self.verification(ds)}/{{model}}/{sub}"

    def comparison_inputs(self, ds: str, c: dict) -> dict:
        """Per-model tables of comparison.tsv (metrics, ageing, probe; with common pairs also
        the common-pairs counts, ``common``)."""
        ver = self.verification(ds)
        tables = self.model_tables(ds, c)
        models = dataset_models(c)
        files = {
            "metrics": [fill(f"{tables}metrics.tsv", model=m) for m in models],
            "ageing": [fill(f"{tables}ageing.tsv", model=m) for m in models],
            "probe": [f"{ver}/{m}/age_probe.tsv" for m in vector_models(c)],
        }
        if common_pairs_used(c):
            files["common"] = self.common_pairs(ds)
        return files

    def shard_files(self, pattern: str, ds: str, c: dict) -> list[str]:
        """``pattern`` (with ``{dataset}`` and ``{shard}``) for every shard of dataset ``ds``,
        other wildcards kept."""
        return [fill(pattern, dataset=ds, shard=s) for s in shards(c)]

    # Logs and benchmarks (faceage.paths: logs/<rule>/<dataset>[_<part>...].log, ...).

    def log(self, rule: str, ds: str, *parts: str) -> str:
        return paths.log_path(rule, ds, *parts)

    def benchmark(self, rule: str, ds: str, *parts: str) -> str:
        return paths.benchmark_path(rule, ds, *parts)

    def speed(self, rule: str, ds: str, *parts: str) -> str:
        """A job's own speed record (JSON), beside its benchmark file."""
        return paths.speed_path(rule, ds, *parts)

    def embed_benchmarks(self, ds: str, c: dict, builtin_models, path=None) -> dict[str, list[str]]:
        """{model: [file of shard 0, of shard 1, ...]} of the embed jobs of dataset ``ds``,
        built-in models only (``builtin_models``); ``path``: :meth:`benchmark` (Snakemake's
        TSV, the default) or :meth:`speed` (the job's own record). The timing step reads no
        file name."""
        path = path or self.benchmark
        return {
            m: [path("embed", ds, m, f"shard{s}") for s in shards(c)]
            for m in dataset_models(c)
            if m in builtin_models
        }

    # What a run makes.

    def dataset_outputs(self, ds: str, c: dict) -> list[str]:
        """What `snakemake` with no target makes for dataset ``ds`` of configuration ``c``."""
        res = self.results(ds)
        ver = self.verification(ds)
        models = dataset_models(c)

        def per_model(*patterns, models=models):
            return [fill(p, model=m) for p in patterns for m in models]

        out = [self.cleaning_summary(ds)]
        out += [self.external_report(ds, m) for m in external_models(c)]
        if models:
            out.append(f"{res}/tables/timing.tsv")
            out += per_model(f"{res}/embeddings/{{model}}_vectors.csv", models=vector_models(c))
        if models and c["tsv_export"] and not is_protocol(c):
            out.append(f"{res}/tsv/pairs.tsv")
            out += per_model(f"{res}/tsv/scores/{{model}}.tsv")
        if models and c["exports"] and not is_protocol(c):
            out += per_model(f"{self.exports(ds, '{model}')}/README.txt")
        if is_protocol(c):
            return out + [self.benchmarks_table(ds)]
        if models:
            out += [
                f"{res}/tables/similarity_within_range.csv",
                f"{res}/plots/similarity_by_gap.png",
            ]
            out += per_model(f"{res}/plots/projections_{{model}}.png", models=vector_models(c))
        if models and c["verification"]["enabled"]:
            out += [f"{ver}/comparison.tsv", f"{ver}/metrics_by_gap.png"]
            if len(models) > 1:  # paired comparisons compare models
                # the share of images without a vector: of the models with vectors
                fte = [f"{ver}/paired/failure_to_enrol.png"] if vector_models(c) else []
                out += [
                    f"{ver}/paired/forest_auc.png",
                    f"{ver}/paired/fnmr_by_gap.png",
                    *fte,
                    f"{ver}/paired/by_gender.tsv",
                ]
            out += per_model(
                f"{ver}/{{model}}/roc_by_gap.png",
                f"{ver}/{{model}}/det.png",
                f"{ver}/{{model}}/fnmr_by_gap.png",
                f"{ver}/{{model}}/fnmr_by_year.png",
            )
        estimators = estimator_names(c)
        if estimators:
            for pattern in (
                f"{res}/attributes/{{estimator}}/review.tsv",
                f"{res}/attributes/{{estimator}}/age_table.tsv",
                f"{res}/plots/attributes_{{estimator}}_joint.png",
            ):
                out += [fill(pattern, estimator=e) for e in estimators]
            out.append(f"{res}/plots/attributes_speed_vs_mae.png")
        return out

    def final_outputs(self, datasets: dict[str, dict], study: bool) -> list[str]:
        """What `snakemake` with no target makes: every dataset's outputs ({name: resolved
        configuration}), and in a study (``datasets:``) the study's tables and figures."""
        out = [f for ds, c in datasets.items() for f in self.dataset_outputs(ds, c)]
        if study:
            out += self.study_outputs()
        return out

    # The study (results/study/): which dataset and model each of its inputs belongs to is
    # handed to its step as records aligned with the input lists (no step parses a name).

    @property
    def study_dir(self) -> str:
        return f"{self.root}/study"

    def study_outputs(self) -> list[str]:
        """The study's tables and figures (a run with datasets:)."""
        return [f"{self.study_dir}/{name}" for name in STUDY_OUTPUTS]

    def study_parts(self, datasets: dict[str, dict]) -> dict[str, list[tuple[dict, str]]]:
        """{input name: [(record, file), ...]} of every dataset in the run; a ``models``
        file is the folder of the model's tables (ends in /)."""
        parts = {k: [] for k in STUDY_PARTS}
        for ds, c in datasets.items():
            models = dataset_models(c)
            if is_protocol(c) and models:
                parts["benchmarks"].append(({"dataset": ds}, self.benchmarks_table(ds)))
            elif models and c["verification"]["enabled"]:
                tables = self.model_tables(ds, c)
                for m in models:
                    parts["models"].append(({"dataset": ds, "model": m}, fill(tables, model=m)))
                if len(models) > 1:
                    parts["differences"].append(({"dataset": ds}, self.differences(ds)))
            for e in estimator_names(c):
                parts["attributes"].append(
                    ({"dataset": ds, "estimator": e}, self.attribute_summary(ds, e))
                )
        return parts

    def study_inputs(self, datasets: dict[str, dict]) -> dict[str, list[str]]:
        """The study_summary rule's named inputs."""
        parts = self.study_parts(datasets)
        folders = [f for _, f in parts["models"]]
        return {
            "metrics": [f"{f}metrics.tsv" for f in folders],
            "ageing": [f"{f}ageing.tsv" for f in folders],
            "conventions": [f"{f}conventions.json" for f in folders],
            **{k: [f for _, f in parts[k]] for k in ("differences", "benchmarks", "attributes")},
            "settings": [self.settings_record(ds) for ds in datasets],
        }

    def study_settings(self, datasets: dict[str, dict], fmr) -> dict:
        """What study_summary reads: the records of its inputs (aligned with
        :meth:`study_inputs`) and the study's FMR."""
        parts = self.study_parts(datasets)
        return {
            **{k: [r for r, _ in v] for k, v in parts.items()},
            "settings": [{"dataset": ds} for ds in datasets],
            "fmr": fmr,
        }


# Messages printed after a run (paths.smk's onerror/onsuccess).


def failure_messages(layout: Layout, datasets) -> list[str]:
    """After a failed run: one line for the failure users most need explained (no image
    survived cleaning)."""
    out = []
    for ds in datasets:
        clean = Path(layout.clean_manifest(ds))
        if clean.is_file() and sum(1 for _ in clean.open()) <= 1:
            out.append(
                f"ERROR: no image survived cleaning; see {layout.cleaning_report(ds)} "
                f"and {layout.cleaning_summary(ds)}"
            )
    return out


def depleted_benchmark_messages(layout: Layout, protocol_datasets) -> list[str]:
    """After a run: one line for every model x protocol whose accuracy was withheld, with the
    counts."""
    import pandas as pd

    out = []
    for ds in protocol_datasets:
        table = Path(layout.benchmarks_table(ds))
        if not table.is_file():
            continue
        t = pd.read_csv(table, sep="\t", keep_default_na=False)
        for _, r in t[t["accuracy_note"] != ""].iterrows():
            out.append(
                f"WARNING: protocol {r['protocol']}, model {r['model']}: no accuracy "
                f"reported: {r['accuracy_note']} ({r['n_pairs']} pairs: {r['n_genuine']} "
                f"genuine, {r['n_impostor']} impostor, {r['n_unscored']} unscored; "
                f"dataset {ds})"
            )
    return out
