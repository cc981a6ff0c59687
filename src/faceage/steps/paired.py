"""Comparing models (workflow/rules/paired.smk): every model on the pairs all models scored,
one rule per analysis - paired differences, FNMR at fixed FMR, failure to enrol and the
split by gender (docs/verification.md, "Comparing models").

The models' files come as lists (``input.scores``, ``input.operating``,
``input.embeddings``) in the order of ``settings.models``."""

from __future__ import annotations

import logging

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)


def common_scores(input, settings, only: list[str] | None = None, name: str = "scores"):
    """The models' scores of ``input.<name>`` on the pairs every model scored
    (:class:`~faceage.analysis.paired.CommonPairs`)."""
    from faceage.analysis.paired import common_pairs
    from faceage.steps.similarity import read_scores

    return common_pairs(read_scores(input.by_model(name, settings.models), only))


def _checked_common(input, settings):
    """The common pairs (the columns the analyses read), checked against the count the
    ``common_pairs`` rule wrote."""
    from faceage.steps.operating import OPERATING_COLUMNS

    common = common_scores(input, settings, OPERATING_COLUMNS)
    counted = int(c.read_table(input.common)["n_common"].iloc[0])
    if counted != len(common.pairs):
        raise RuntimeError(
            f"{input.common} counts {counted} common pairs, the scores give "
            f"{len(common.pairs)}: rerun the common_pairs rule"
        )
    return common


def _pool(input, settings):
    """The operating pool's scores on the pool pairs every model scored."""
    from faceage.steps.operating import OPERATING_COLUMNS

    return common_scores(input, settings, OPERATING_COLUMNS, "operating")


@step
def paired_differences(*, input, output, settings):
    """Per model and per model pair A - B: AUC, FNMR at the largest estimable FMR (overall on
    the pool: ``fnmr_at_fmr_<f>``; per gap bin on its ROC impostors: ``roc_fnmr_at_fmr_<f>``),
    d', age robustness and the OLS slope, paired bootstrap; the forest plot."""
    from faceage.analysis.paired import paired_comparison
    from faceage.plots.paired import plot_forest

    common = _checked_common(input, settings)
    result = paired_comparison(
        common,
        settings.gap_bins,
        fmr_levels=settings.fmr_levels,
        impostors=settings.impostors,
        n_bootstrap=settings.bootstrap_iterations,
        seed=settings.seed,
        pool=_pool(input, settings),
    )
    c.write_table(result.per_model, output.per_model)
    c.write_table(result.differences, output.differences)
    plot_forest(result.differences, output.forest)
    log.info(
        "%d common pairs of %d models; %d differences",
        len(common.pairs),
        len(common.models),
        len(result.differences),
    )


@step
def paired_fnmr(*, input, output, settings):
    """FNMR per gap bin and per year of gap at each model's threshold for every FMR level, set
    on the common pool pairs, the same persons drawn for every model; the two plots."""
    from faceage.analysis.paired import deployed_fnmr
    from faceage.plots import paired as plots

    common, pool = _checked_common(input, settings), _pool(input, settings)
    kw = {
        "n_bootstrap": settings.bootstrap_iterations,
        "seed": settings.seed,
        "impostors": pool,
    }
    fnmr = deployed_fnmr(common, settings.gap_bins, settings.fmr_levels, **kw)
    by_year = deployed_fnmr(
        common,
        None,
        settings.fmr_levels,
        by_year=True,
        min_year_pairs=settings.min_year_pairs,
        **kw,
    )
    by_year = by_year[by_year["gap_bin"] != "all"]  # "all" is in fnmr.tsv
    c.write_table(fnmr, output.fnmr)
    c.write_table(by_year, output.fnmr_by_year)
    plots.plot_fnmr_by_gap(fnmr, output.fnmr_plot)
    plots.plot_fnmr_by_year(by_year, output.fnmr_year_plot)


@step
def paired_failure_to_enrol(*, input, output, settings):
    """Per model and age range the share of the clean manifest's own images without an
    embedding, Wilson intervals; the plot."""
    from faceage.analysis.paired import enrolment, failure_to_enrol
    from faceage.plots.paired import plot_failure_to_enrol

    images = c.own_content(c.read_table(input.manifest))
    enrol = {}
    for model, path in input.by_model("embeddings", settings.models).items():
        emb = c.read_embeddings(path)
        enrol[model] = enrolment(images, emb["image_id"], emb["status"])
    fte = failure_to_enrol(enrol, settings.age_bins)
    c.write_table(fte, output.table)
    plot_failure_to_enrol(fte, output.plot)


@step
def paired_by_gender(*, input, output, settings):
    """Per gender both persons of a pair share: the models' AUC per gap bin and the paired
    AUC differences; which genders were used and why not."""
    from faceage.analysis.paired import by_gender

    common = _checked_common(input, settings)
    man = c.own_content(c.read_table(input.manifest))
    table, groups = by_gender(
        common,
        man[["person", "gender"]],
        settings.gap_bins,
        settings.fmr_levels,
        settings.impostors,
        settings.bootstrap_iterations,
        settings.seed,
        settings.paired.min_gender_persons,
    )
    c.write_table(table, output.table)
    c.write_table(groups, output.groups)
    used = groups.loc[groups["used"].astype(bool), "gender"]
    log.info("genders used: %s", ", ".join(used) or "none")
