"""Label checks: where an estimator disagrees with the labels, for a person to review.

Per image (a row of ``predictions.tsv``, see :mod:`faceage.attributes.predict`):

* ``flag_gender`` - the predicted gender differs from the label, the
  estimator's confidence in its choice is at least ``gender_min_confidence``
  (0-1), and the labelled age is at least ``gender_min_age`` (estimators are
  near chance on young children's gender, so they would only add noise);
* ``flag_age`` - ``|age_pred - clip(age, estimator age range)|`` exceeds
  ``age_k`` times the estimator's MAE (years). The MAE is the adapter's
  ``reference_mae`` unless ``age_mae`` gives a number, or ``"dataset"`` (the
  estimator's MAE on this dataset, clipped labels). Labels outside the range
  the estimator can output are clipped first, so a 95-year-old is not called
  implausible by a model that never says more than 80.

Flags never remove anything. :func:`review_sheet` makes ``review.tsv``: one
row per flagged image with empty ``verdict``/``value``/``note`` columns for
the reviewer, and the decision already recorded in ``config/overrides.tsv``
when there is one. :func:`verdicts_to_overrides` turns the filled sheet into
override lines (``drop``, ``relabel``; ``keep`` is written as a relabel to
the same value so the decision is on record) appended to the overrides file,
which the clean stage and this branch apply on the next run.

    faceage review apply REVIEW_TSV config/overrides.tsv
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FLAG_COLUMNS = [
    "image_id",
    "person",
    "age",
    "gender",
    "age_pred",
    "gender_pred",
    "gender_conf",
    "age_error",
    "age_threshold",
    "flag_gender",
    "flag_age",
]
REVIEW_COLUMNS = [
    "image_id",
    "path",
    "person",
    "field",
    "label",
    "predicted",
    "confidence",
    "reason",
    "decided",
    "verdict",
    "value",
    "note",
]
VERDICTS = ("keep", "drop", "relabel")


def clipped_error(pred: pd.DataFrame, age_range: tuple[float, float]) -> pd.Series:
    """``age_pred - clip(age, age_range)`` in years (NaN where either is missing)."""
    lo, hi = age_range
    age = pd.to_numeric(pred["age"], errors="coerce").astype("float64")
    return pd.to_numeric(pred["age_pred"], errors="coerce").astype("float64") - age.clip(lo, hi)


def age_threshold(
    pred: pd.DataFrame, age_range, reference_mae: float, age_k: float, age_mae=None
) -> float:
    """The implausible-age threshold in years: ``age_k`` x the chosen MAE."""
    if age_mae is None:
        mae = float(reference_mae)
    elif isinstance(age_mae, str):
        if age_mae != "dataset":
            raise ValueError(f"age_mae must be a number, null or 'dataset', got {age_mae!r}")
        err = clipped_error(pred, age_range).abs()
        mae = float(err.mean()) if err.notna().any() else float(reference_mae)
    else:
        mae = float(age_mae)
    return float(age_k) * mae


def flag_labels(
    pred: pd.DataFrame,
    *,
    age_range=(0.0, 80.0),
    reference_mae: float = 6.8,
    age_k: float = 4.0,
    age_mae=None,
    gender_min_confidence: float = 0.95,
    gender_min_age: float = 12,
) -> pd.DataFrame:
    """Add ``age_error``, ``age_threshold``, ``flag_gender`` and ``flag_age`` to ``pred``."""
    out = pred.copy()
    for col in ("age_pred", "gender_conf", "age_conf"):  # read_table leaves them as text
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    err = clipped_error(out, age_range)
    thr = age_threshold(out, age_range, reference_mae, age_k, age_mae)
    out["age_error"] = err
    out["age_threshold"] = thr
    out["flag_age"] = (err.abs() > thr).fillna(False).astype(bool)
    label_age = pd.to_numeric(out["age"], errors="coerce").astype("float64")
    conf = pd.to_numeric(out["gender_conf"], errors="coerce").astype("float64")
    has_both = out["gender"].notna() & out["gender_pred"].notna()
    disagree = has_both & (out["gender"].astype("string") != out["gender_pred"].astype("string"))
    old_enough = label_age.isna() | (label_age >= gender_min_age)
    out["flag_gender"] = (
        (disagree & (conf >= gender_min_confidence) & old_enough).fillna(False).astype(bool)
    )
    return out


def review_sheet(
    flags: pd.DataFrame, manifest: pd.DataFrame | None = None, overrides: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per flagged (image, field), most striking first, for a person to go through.

    ``decided`` repeats a decision already in the overrides file for that
    image (so a re-run shows what was settled); ``verdict`` (keep, drop or
    relabel), ``value`` (the new label for relabel) and ``note`` are left
    empty for the reviewer.
    """
    paths = (
        {} if manifest is None else dict(zip(manifest["image_id"], manifest["path"], strict=False))
    )
    decided: dict[tuple[str, str], str] = {}
    if overrides is not None:
        for _, ov in overrides.iterrows():
            text = (
                ov["action"] if ov["action"] == "drop" else f"relabel {ov['field']}={ov['value']}"
            )
            for field in ("age", "gender") if ov["action"] == "drop" else (ov["field"],):
                decided[(ov["image_id"], field)] = text
    rows = []
    for _, r in flags[flags["flag_gender"]].iterrows():
        rows.append(
            {
                "image_id": r["image_id"],
                "field": "gender",
                "label": r["gender"],
                "predicted": r["gender_pred"],
                "confidence": r["gender_conf"],
                "reason": (
                    f"estimator says {r['gender_pred']} with confidence {r['gender_conf']:.2f}"
                ),
                "_rank": 100 + float(r["gender_conf"]),
            }
        )
    for _, r in flags[flags["flag_age"]].iterrows():
        rows.append(
            {
                "image_id": r["image_id"],
                "field": "age",
                "label": r["age"],
                "predicted": r["age_pred"],
                "confidence": np.nan,
                "reason": (
                    f"predicted age off by {r['age_error']:+.0f} years "
                    f"(threshold {r['age_threshold']:.1f})"
                ),
                "_rank": abs(float(r["age_error"])) / float(r["age_threshold"]),
            }
        )
    sheet = pd.DataFrame(
        rows,
        columns=[
            c
            for c in REVIEW_COLUMNS
            if c not in ("path", "person", "decided", "verdict", "value", "note")
        ]
        + ["_rank"],
    )
    person = dict(zip(flags["image_id"], flags["person"], strict=False))
    sheet["person"] = sheet["image_id"].map(person)
    sheet["path"] = sheet["image_id"].map(paths)
    sheet["decided"] = [
        decided.get((i, f), "") for i, f in zip(sheet["image_id"], sheet["field"], strict=True)
    ]
    sheet["verdict"] = ""
    sheet["value"] = ""
    sheet["note"] = ""
    sheet = sheet.sort_values(
        ["field", "_rank", "image_id"], ascending=[False, False, True], kind="stable"
    )
    return sheet[REVIEW_COLUMNS].reset_index(drop=True)


def verdicts_to_overrides(review: pd.DataFrame) -> pd.DataFrame:
    """Override lines (image_id, action, field, value, note) for the filled-in verdicts.

    ``keep`` -> relabel the field to its current label (a no-op that records
    the decision); ``drop`` -> drop; ``relabel`` -> relabel the field to
    ``value`` (required). Rows with an empty verdict are skipped.
    """
    out = []
    for _, r in review.iterrows():
        verdict = str(r.get("verdict", "") or "").strip().lower()
        if not verdict or verdict == "nan":
            continue
        if verdict not in VERDICTS:
            raise ValueError(f"{r['image_id']}: verdict must be one of {VERDICTS}, got {verdict!r}")
        note = str(r.get("note", "") or "").strip()
        note = note if note and note != "nan" else f"attribute review: {r['reason']}"
        if verdict == "drop":
            out.append(
                {
                    "image_id": r["image_id"],
                    "action": "drop",
                    "field": "",
                    "value": "",
                    "note": note,
                }
            )
            continue
        value = str(r.get("value", "") or "").strip()
        if verdict == "keep":
            value = _label_text(r["label"])
            note = note if note.startswith("confirmed") else f"confirmed by review ({note})"
        elif not value or value == "nan":
            raise ValueError(f"{r['image_id']}: verdict relabel needs a value")
        out.append(
            {
                "image_id": r["image_id"],
                "action": "relabel",
                "field": r["field"],
                "value": value,
                "note": note,
            }
        )
    return pd.DataFrame(out, columns=["image_id", "action", "field", "value", "note"])


def _label_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
