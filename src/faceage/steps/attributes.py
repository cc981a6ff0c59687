"""Age and gender (workflow/rules/attributes.smk): an estimator's predictions for every
image (in its own interpreter), label checks and their review sheet, evaluation
tables, plots and the speed-against-error summary. docs/attributes.md."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from faceage import contracts as c
from faceage.images import DEFAULT_MAX_SIDE
from faceage.steps import step

log = logging.getLogger(__name__)


def run_predict(
    estimator: str,
    settings: dict,
    weights_dir: str | Path,
    manifest_path: str | Path,
    overrides_path: str | Path | None,
    out_predictions: str | Path,
    out_timing: str | Path,
    max_side: int = DEFAULT_MAX_SIDE,
    batch_size: int = 32,
) -> dict:
    """Read the manifest (+ overrides), predict, write predictions.tsv and timing.json."""
    from faceage.attributes.predict import PREDICTION_COLUMNS, apply_overrides, predict_frame
    from faceage.contracts.overrides import read_overrides

    manifest = apply_overrides(c.read_table(manifest_path), read_overrides(overrides_path))
    table, timing = predict_frame(estimator, settings, weights_dir, manifest, max_side, batch_size)
    c.write_table(table, out_predictions, PREDICTION_COLUMNS)
    with c.atomic_path(out_timing) as tmp:
        tmp.write_text(json.dumps(timing, indent=2, sort_keys=True, default=str) + "\n")
    log.info(
        "%s: %d images, %d predicted, %.1f images/s",
        estimator,
        timing["images"],
        timing["predicted"],
        timing["images_per_second"] or 0,
    )
    return timing


def run_flags(
    predictions_path,
    manifest_path,
    overrides_path,
    estimator: str,
    out_flags,
    out_review,
    **settings,
) -> dict:
    """Read predictions, flag, write flags.tsv (every image) and review.tsv (flagged only)."""
    from faceage.attributes import get_estimator
    from faceage.attributes.flags import FLAG_COLUMNS, REVIEW_COLUMNS, flag_labels, review_sheet
    from faceage.attributes.predict import read_predictions
    from faceage.contracts.overrides import read_overrides

    adapter = get_estimator(estimator)
    pred = read_predictions(predictions_path)
    flags = flag_labels(
        pred, age_range=adapter.age_range, reference_mae=adapter.reference_mae, **settings
    )
    c.write_table(flags, out_flags, FLAG_COLUMNS)
    manifest = c.read_table(manifest_path) if manifest_path else None
    sheet = review_sheet(flags, manifest, read_overrides(overrides_path))
    c.write_table(sheet, out_review, REVIEW_COLUMNS)
    return {
        "images": len(flags),
        "flag_gender": int(flags["flag_gender"].sum()),
        "flag_age": int(flags["flag_age"].sum()),
        "age_threshold": float(flags["age_threshold"].iloc[0]) if len(flags) else None,
    }


@step
def attributes_predict(*, input, output, settings):
    """Runs in the estimator's interpreter (``python -m faceage step attributes_predict``)."""
    return run_predict(
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
    return run_flags(
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
    """Balance if asked, then the age, gender and confusion tables and summary.tsv."""
    from faceage.attributes import evaluation as ev
    from faceage.attributes.predict import read_predictions

    b = settings.balance
    edges = list(settings.age_bins or ev.DEFAULT_AGE_BINS)
    cs = settings.cs_threshold
    pred = read_predictions(input.predictions)
    pred = ev.balance(pred, edges, b.age_min, b.age_max, b.cap_per_bin, b.seed)
    timing = json.loads(Path(input.timing).read_text()) if input.timing else None
    c.write_table(ev.age_table(pred, edges, cs), output.age, ev.AGE_TABLE_COLUMNS)
    c.write_table(ev.gender_table(pred, edges), output.gender, ev.GENDER_TABLE_COLUMNS)
    c.write_table(ev.gender_confusion(pred), output.confusion)
    row = ev.summary(pred, timing, wildcards.estimator, cs)
    c.write_table(pd.DataFrame([row]), output.summary, ev.SUMMARY_KEYS)
    return row


@step
def attributes_plots(*, input, output, settings, wildcards):
    """Predicted against labelled age, and both age distributions, of one estimator."""
    from faceage.attributes import get_estimator
    from faceage.attributes.predict import read_predictions
    from faceage.plots.attributes import age_distributions, joint_plot

    estimator = wildcards.estimator
    title = f"{settings.dataset} / {estimator}"
    pred = read_predictions(input.predictions)
    joint_plot(pred, output.joint, title, get_estimator(estimator).age_range)
    age_distributions(pred, output.distributions, title)


@step
def attributes_speed(*, input, output, settings):
    """Every estimator's summary in one table, and throughput against age MAE."""
    from faceage.attributes.evaluation import stack_summaries
    from faceage.plots.attributes import speed_vs_mae

    table = stack_summaries([c.read_table(p) for p in input.list("summaries")])
    c.write_table(table, output.table)
    speed_vs_mae(table, output.plot, title=f"{settings.dataset}: speed against age error")
