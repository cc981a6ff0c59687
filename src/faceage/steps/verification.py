"""Stage 7 - verification (workflow/rules/verification.smk): genuine against impostor
scores per age gap and age range, the ageing model, the age probe, the model
comparison, and standard benchmarks in protocol runs. Conventions:
docs/verification.md."""

from __future__ import annotations

import logging

import numpy as np
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


@step
def paired_comparison(*, input, output, settings):
    """Every model on the pairs all models scored: paired differences, deployed-threshold FNMR,
    failure to enrol by age and the breakdown by gender (docs/verification.md, 'Comparing
    models'). Inputs: ``scores_<model>``, ``embeddings_<model>`` and the clean manifest."""
    from faceage.analysis import paired as pc
    from faceage.analysis import paired_plots as plots
    from faceage.steps.similarity import score_inputs

    scores = score_inputs(input)
    common = pc.common_pairs(scores)
    kw = {
        "n_bootstrap": settings.bootstrap_iterations,
        "seed": settings.seed,
    }
    result = pc.paired_comparison(
        common,
        settings.gap_bins,
        far_levels=settings.far_levels,
        impostors=settings.impostors,
        **kw,
    )
    fnmr = pc.deployed_fnmr(common, settings.gap_bins, settings.paired.fmr_levels, **kw)

    man = c.own_content(c.read_table(input.manifest))
    enrol = {}
    for name, path in input.items():
        if name.startswith("embeddings_"):
            emb = c.read_embeddings(path)
            ok = pd.Series(np.asarray(emb["status"]) == c.STATUS_OK, index=emb["image_id"])
            enrol[name[len("embeddings_") :]] = man[["image_id", "age"]].assign(
                enrolled=ok.reindex(man["image_id"].astype(str)).fillna(False).to_numpy(bool)
            )
    fte = pc.failure_to_enrol(enrol, settings.age_bins)

    groups, gender_summary = pc.split_by_gender(
        common.pairs, man[["person", "gender"]], settings.paired.min_gender_persons
    )
    by_gender = []
    for gender, rows in groups.items():
        sub = {m: common.scores(m).loc[rows.index] for m in common.models}
        res = pc.paired_comparison(
            sub,
            settings.gap_bins,
            far_levels=settings.far_levels,
            impostors=settings.impostors,
            label=f"paired:gender:{gender}",
            slope=False,
            **kw,
        )
        metrics = res.per_model[res.per_model["metric"] == "auc"].assign(gender=gender)
        diffs = res.differences[res.differences["metric"] == "auc"].rename(
            columns={"model_a": "model", "model_b": "minus_model"}
        )
        by_gender += [metrics, diffs.assign(gender=gender)]
    gender_table = (
        pd.concat(by_gender, ignore_index=True)
        if by_gender
        else pd.DataFrame(columns=["gender", "model", "subset", "label", "metric", "estimate"])
    )
    lead = ["gender"] + [k for k in gender_table.columns if k != "gender"]

    c.write_table(common.summary, output.common)
    c.write_table(result.per_model, output.per_model)
    c.write_table(result.differences, output.differences)
    c.write_table(fnmr, output.fnmr)
    c.write_table(fte, output.failure_to_enrol)
    c.write_table(gender_table[lead], output.by_gender)
    c.write_table(gender_summary, output.gender_groups)
    plots.plot_forest(result.differences, output.forest)
    plots.plot_fnmr_by_gap(fnmr, output.fnmr_plot)
    plots.plot_failure_to_enrol(fte, output.fte_plot)
    log.info(
        "%d common pairs of %d models; %d differences; genders used: %s",
        len(common.pairs),
        len(common.models),
        len(result.differences),
        ", ".join(groups) or "none",
    )
