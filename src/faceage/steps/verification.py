"""Stage 7 - verification (workflow/rules/verification.smk): genuine against impostor
scores per age gap and age range, the ageing model, the age probe, the model
comparison, and standard benchmarks in protocol runs. Conventions:
docs/verification.md."""

from __future__ import annotations

import json
import logging
import os

import pandas as pd

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)


# What the metrics and the ageing model read of a scores table (not the image names).
METRIC_COLUMNS = [col for col in c.SCORE_COLUMNS + ["fold"] if col not in ("image_a", "image_b")]


def _scores(input) -> pd.DataFrame:
    """The model's scores (the columns the metrics use, read column by column); only the pairs
    every model scored when the rule names ``common``."""
    common = "common" in input
    scores = c.read_compact(input.scores, [x for x in METRIC_COLUMNS if common or x != "pair_id"])
    if common:
        keep = c.read_table(input.common)["pair_id"]
        scores = scores[scores["pair_id"].isin(keep)].reset_index(drop=True)
    return scores


def _by_model(input, name: str, models) -> dict[str, pd.DataFrame]:
    """``{model: table}`` from the list input ``name`` (one file per model, in ``models`` order)."""
    from faceage.analysis.comparison import read_result

    if not input.list(name):
        return {}
    return {m: read_result(p) for m, p in input.by_model(name, models).items()}


@step(also=("verification_metrics_common",))
def verification_metrics(*, input, output, settings, wildcards):
    """One model's metrics (overall, per gap bin, per pair of age ranges), ROC and conventions;
    on the common pairs for ``verification_metrics_common``."""
    from faceage.analysis import verification as v
    from faceage.analysis.operating import with_operating_points
    from faceage.steps.operating import operating_points, read_pool

    model = wildcards.model
    kw = {
        "gap_edges": settings.gap_bins,
        "fmr_levels": settings.fmr_levels,
        "impostors": settings.impostors,
        "n_bootstrap": settings.bootstrap_iterations,
        "seed": settings.seed,
        "n_folds": settings.folds,
        "balance_accuracy": settings.balance_accuracy,
        "min_accuracy_pairs": settings.min_accuracy_pairs,
    }
    scores = _scores(input)
    genuine = scores.loc[scores["genuine"] == 1, ["person_a", "age_gap", "genuine", "similarity"]]
    pairs = v.PairArrays.of(scores, settings.gap_bins)
    del scores  # the table is dropped here
    metrics, roc = v.verification_metrics(pairs, **kw)
    n_pairs = len(pairs)
    del pairs  # the operating points need only the genuine pairs and the pool
    pool = read_pool(input)
    fnmr, fnmr_by_year = operating_points(genuine, pool, settings, model)
    roc_impostors = (
        "pairs table: impostors of the same gap bin (age-matched)"
        if settings.impostors == "same_gap_bin"
        else "pairs table: every impostor pair"
    )
    metrics = with_operating_points(metrics, fnmr, settings.fmr_levels, roc_impostors)
    metrics.insert(0, "model", model)
    roc.insert(0, "model", model)
    run = v.run_settings(model, input.scores, **kw)
    run["operating_pool"] = f"{len(pool)} impostor pairs ({input.operating})"
    if "common" in input:
        run["pairs"] = f"common: the {n_pairs} pairs every model scored ({input.common})"
    c.write_table(fnmr, output.fnmr)
    c.write_table(fnmr_by_year, output.fnmr_by_year)
    c.write_table(metrics, output.metrics)
    c.write_table(roc, output.roc)
    with c.atomic_path(output.conventions) as tmp:
        tmp.write_text(json.dumps(v.conventions(run), indent=2) + "\n")
    return metrics


@step(also=("ageing_model_common",))
def ageing_model(*, input, output, settings, wildcards):
    """The ageing mixed model of one model's genuine scores, one row (on a person sample above
    ``settings.max_pairs`` genuine pairs)."""
    from faceage.analysis.ageing import AGEING_COLUMNS, fit_ageing_model

    fit = fit_ageing_model(_scores(input), max_pairs=settings.max_pairs, seed=settings.seed)
    res = {"model": wildcards.model, **fit}
    c.write_table(pd.DataFrame([res]).reindex(columns=AGEING_COLUMNS), output.table)
    return res


@step
def age_probe(*, input, output, settings, wildcards):
    """Ridge regression from one model's embeddings to age (person-grouped CV), one row."""
    from faceage.analysis.age_probe import PROBE_COLUMNS, age_probe, probe_data

    x, age, person = probe_data(c.read_embeddings(input.embeddings), c.read_table(input.manifest))
    res = {"model": wildcards.model, **age_probe(x, age, person, settings.folds, settings.alphas)}
    c.write_table(pd.DataFrame([res]).reindex(columns=PROBE_COLUMNS), output.table)
    return res


@step
def verification_plots(*, input, output, wildcards):
    """ROC by gap, age-range heatmaps and the ageing plot of one model."""
    from faceage.analysis.comparison import read_result
    from faceage.plots import verification as plots

    model = wildcards.model
    metrics, roc = read_result(input.metrics), read_result(input.roc)
    plots.plot_roc_by_gap(roc, metrics, output.roc, f"{model}: ROC by age gap")
    plots.plot_range_heatmaps(metrics, output.ranges, f"{model}: by pair of age ranges")
    plots.plot_ageing(
        c.read_compact(input.scores, ["genuine", "similarity", "age_gap"]),
        read_result(input.ageing).iloc[0],
        output.ageing,
        f"{model}: genuine similarity against age gap",
    )


@step
def common_pairs(*, input, output, settings):
    """The pairs every model scored: counts per model and the pair ids."""
    from faceage.steps.paired import common_scores

    found = common_scores(input, settings)
    pool = common_scores(input, settings, ["pair_id", "genuine", "similarity"], "operating")
    c.write_table(found.summary, output.table)
    c.write_table(found.pairs[["pair_id"]], output.ids)
    c.write_table(pool.pairs[["pair_id"]], output.operating_ids)
    log.info(
        "%d common pairs and %d common operating-pool pairs of %d models",
        len(found.pairs),
        len(pool.pairs),
        len(found.models),
    )
    return found.summary


@step
def verification_comparison(*, input, output, settings):
    """comparison.tsv (one row per model) and metrics_by_gap.png; on the common pairs when the
    rule names ``common`` (docs/verification.md)."""
    from faceage.analysis.comparison import compare_models, read_result, with_pair_counts
    from faceage.plots.verification import plot_metrics_vs_gap

    models = settings.models
    metrics = _by_model(input, "metrics", models)
    table = compare_models(
        metrics,
        _by_model(input, "ageing", models),
        _by_model(input, "probe", settings.get("probe_models", models)),
        fmr_levels=settings.fmr_levels,
    )
    counts = read_result(input.common) if "common" in input else None
    table = with_pair_counts(table, counts)
    c.write_table(table, output.table)
    top = max(settings.fmr_levels) if settings.fmr_levels else None
    plot_metrics_vs_gap(metrics, output.plot, top, settings.title)
    return table


@step
def verification_protocol(*, input, output, settings, wildcards):
    """One model on one protocol: summary, per-fold table and scored pairs.

    Logs a warning when the protocol is depleted."""
    from faceage.protocols.evaluation import CONVENTION, evaluate_protocol

    name, model = wildcards.protocol, wildcards.model
    table = c.read_table(os.path.join(input.protocols, f"{name}.tsv"))
    per_fold, summary, scored = evaluate_protocol(table, c.read_embeddings(input.embeddings))
    man = c.read_table(input.manifest)
    named = set(table["id_a"].dropna()) | set(table["id_b"].dropna())
    aliased = (
        man["image_id"].isin(named) & man.get("alias_of", pd.Series(pd.NA, index=man.index)).notna()
    )
    not_found = set(table.loc[table["id_a"].isna(), "image_a"]) | set(
        table.loc[table["id_b"].isna(), "image_b"]
    )
    summary = {
        "protocol": name,
        "format": settings.format,
        "model": model,
        **summary,
        "n_aliases": int(aliased.sum()),
        "n_not_found": len(not_found),
        "convention": CONVENTION,
    }
    per_fold.insert(0, "model", model)
    per_fold.insert(0, "protocol", name)
    c.write_table(pd.DataFrame([summary]), output.summary)
    c.write_table(per_fold, output.folds)
    c.write_table(scored, output.pairs)
    if summary["accuracy_note"]:
        log.warning(
            "WARNING protocol %s, model %s: no accuracy reported: %s "
            "(%d pairs: %d genuine, %d impostor, %d unscored)",
            name,
            model,
            summary["accuracy_note"],
            summary["n_pairs"],
            summary["n_genuine"],
            summary["n_impostor"],
            summary["n_unscored"],
        )
    log.info(
        "protocol %s, model %s: accuracy %s +- %s, AUC %.4f, %d fallback pairs",
        name,
        model,
        summary["accuracy"],
        summary["accuracy_std"],
        summary["auc"],
        summary["n_fallback_pairs"],
    )
    return summary


@step
def benchmarks(*, input, output, settings):
    """results/<ds>/verification/benchmarks.tsv: model x protocol."""
    from faceage.protocols.dataset import protocols_from_config
    from faceage.protocols.evaluation import benchmarks_table
    from faceage.protocols.published import benchmark_of

    protocols = protocols_from_config(settings.plain()["protocols"])
    table = benchmarks_table(
        [c.read_table(s) for s in input.list("summaries")],
        published={p.name: p.published for p in protocols},
        benchmarks={p.name: benchmark_of(p.format, p.file, p.benchmark) for p in protocols},
        models=settings.plain()["models"],
    )
    c.write_table(table, output.table)
    return table
