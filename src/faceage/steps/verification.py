"""Stage 7 - verification (workflow/rules/verification.smk): genuine against impostor
scores per age gap and age range, the ageing model, the age probe, the model
comparison, and standard benchmarks in protocol runs. Conventions:
docs/verification.md."""

from __future__ import annotations

import logging

import pandas as pd

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)


@step
def verification_metrics(*, input, output, settings, wildcards):
    from faceage.analysis.verification import write_verification

    write_verification(
        input.scores,
        output.metrics,
        output.roc,
        output.conventions,
        settings.gap_bins,
        far_levels=settings.far_levels,
        impostors=settings.impostors,
        n_bootstrap=settings.bootstrap_iterations,
        seed=settings.seed,
        n_folds=settings.folds,
        balance_accuracy=settings.balance_accuracy,
        model=wildcards.model,
        min_accuracy_pairs=settings.min_accuracy_pairs,
    )


@step
def ageing_model(*, input, output, wildcards):
    from faceage.analysis.ageing import write_ageing

    write_ageing(input.scores, output.table, model=wildcards.model)


@step
def age_probe(*, input, output, settings, wildcards):
    from faceage.analysis.age_probe import write_age_probe

    write_age_probe(
        input.embeddings,
        input.manifest,
        output.table,
        wildcards.model,
        settings.folds,
        settings.alphas,
    )


@step
def verification_plots(*, input, output, wildcards):
    from faceage.analysis.verification_plots import write_model_plots

    write_model_plots(
        input.metrics,
        input.roc,
        input.ageing,
        input.scores,
        output.roc,
        output.ranges,
        output.ageing,
        wildcards.model,
    )


@step
def verification_comparison(*, input, output, settings):
    from faceage.analysis.comparison import write_comparison
    from faceage.analysis.verification_plots import write_comparison_plot

    metrics = input.list("metrics")
    write_comparison(metrics, output.table, input.list("ageing"), input.list("probe"))
    write_comparison_plot(metrics, output.plot, title=settings.title)


@step
def verification_protocol(*, input, output, settings, wildcards):
    """One model on one protocol: summary, per-fold table and scored pairs; a warning when depleted."""
    from faceage.protocols.evaluation import CONVENTION, evaluate_protocol

    name, model = wildcards.protocol, wildcards.model
    table = c.read_table(input.pairs)
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

    published = {p.name: p.published for p in protocols_from_config(settings.plain()["protocols"])}
    table = benchmarks_table([c.read_table(s) for s in input.list("summaries")], published)
    c.write_table(table, output.table)
    return table
