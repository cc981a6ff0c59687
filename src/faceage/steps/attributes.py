"""Age and gender (workflow/rules/attributes.smk): an estimator's predictions for every
image (in its own interpreter), label checks and their review sheet, evaluation
tables, plots and the speed-against-error summary. docs/attributes.md."""

from __future__ import annotations

from faceage.steps import step


@step
def attributes_predict(*, input, output, settings):
    """Runs in the estimator's interpreter (``python -m faceage step attributes_predict``)."""
    from faceage.attributes.predict import run_predict

    run_predict(
        settings.estimator,
        settings.estimator_settings.plain(),
        settings.weights_dir,
        input.manifest,
        input.optional("overrides"),
        output.predictions,
        output.timing,
        settings.max_side,
        settings.batch_size,
    )


@step
def attributes_flags(*, input, output, settings, wildcards):
    from faceage.attributes.flags import run_flags

    run_flags(
        input.predictions,
        input.manifest,
        input.optional("overrides"),
        wildcards.estimator,
        output.flags,
        output.review,
        **settings.plain(),
    )


@step
def attributes_evaluate(*, input, output, settings, wildcards):
    from faceage.attributes.evaluation import run_evaluate

    b = settings.balance
    run_evaluate(
        input.predictions,
        input.timing,
        wildcards.estimator,
        output.age,
        output.gender,
        output.confusion,
        output.summary,
        age_bins=settings.age_bins,
        age_min=b.age_min,
        age_max=b.age_max,
        cap_per_bin=b.cap_per_bin,
        seed=b.seed,
        cs=settings.cs_threshold,
    )


@step
def attributes_plots(*, input, output, settings, wildcards):
    from faceage.attributes import get_estimator
    from faceage.attributes.plots import run_plots

    estimator = wildcards.estimator
    run_plots(
        input.predictions,
        output.joint,
        output.distributions,
        title=f"{settings.dataset} / {estimator}",
        age_range=get_estimator(estimator).age_range,
    )


@step
def attributes_speed(*, input, output, settings):
    from faceage.attributes.evaluation import collect_summaries
    from faceage.attributes.plots import speed_vs_mae

    table = collect_summaries(input.list("summaries"), output.table)
    speed_vs_mae(table, output.plot, title=f"{settings.dataset}: speed against age error")
