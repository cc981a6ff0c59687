"""Run one attribute estimator over a manifest: per image predicted age and
gender next to the labels, plus the throughput.

``results/<ds>/attributes/<estimator>/predictions.tsv`` has
:data:`PREDICTION_COLUMNS`: the manifest's ``image_id``, ``person``, ``age``
and ``gender`` (the labels, after the decisions in ``config/overrides.tsv``),
then ``age_pred`` (years), ``gender_pred`` (``M``/``F``), ``age_conf`` and
``gender_conf`` (0-1), ``status`` (``ok``, ``whole_image``, ``no_face``,
``undecodable: ...``, ``error: ...``), ``n_faces`` and the face box used.
``timing.json`` holds images, seconds and images/s (model loading excluded).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from faceage.adapters import Stopwatch, failure_status, with_retry
from faceage.attributes import get_estimator
from faceage.attributes.base import Attributes
from faceage.contracts import read_table
from faceage.images import DEFAULT_MAX_SIDE, ImageError, load_rgb

PREDICTION_COLUMNS = [
    "image_id",
    "person",
    "age",
    "gender",
    "age_pred",
    "gender_pred",
    "age_conf",
    "gender_conf",
    "status",
    "n_faces",
    "face_left",
    "face_top",
    "face_right",
    "face_bottom",
]


NUMERIC_COLUMNS = [
    "age_pred",
    "age_conf",
    "gender_conf",
    "face_left",
    "face_top",
    "face_right",
    "face_bottom",
]


def read_predictions(path) -> pd.DataFrame:
    """Read ``predictions.tsv`` with numbers as numbers.

    The contract's reader keeps unknown columns as text.
    """
    df = read_table(path, PREDICTION_COLUMNS)
    for col in NUMERIC_COLUMNS:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    df["n_faces"] = pd.to_numeric(df["n_faces"], errors="coerce").astype("Int64")
    return df


def apply_overrides(manifest: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """The manifest with the overrides' drops removed and relabels applied.

    The clean stage's own reading (:func:`faceage.clean.apply_overrides`), so
    the attribute branch sees the labels the study uses.
    """
    from faceage.clean import apply_overrides as decide

    df, decisions = decide(manifest, overrides)
    drop = [d["index"] for d in decisions if d["action"] == "drop"]
    return df.drop(index=drop).reset_index(drop=True)


def _row(res: Attributes) -> dict:
    face = res.face
    return {
        "age_pred": res.age,
        "gender_pred": res.gender,
        "age_conf": res.age_confidence,
        "gender_conf": res.gender_confidence,
        "status": res.status,
        "n_faces": res.n_faces,
        "face_left": face.left if face else None,
        "face_top": face.top if face else None,
        "face_right": face.right if face else None,
        "face_bottom": face.bottom if face else None,
    }


def predict_frame(
    estimator_name: str,
    settings: dict,
    weights_dir: str | Path,
    rows: pd.DataFrame,
    max_side: int = DEFAULT_MAX_SIDE,
    batch_size: int = 32,
) -> tuple[pd.DataFrame, dict]:
    """Predict every row of ``rows`` (manifest columns); return (table, timing)."""
    adapter = get_estimator(estimator_name)
    adapter.check_weights(settings, Path(weights_dir))
    clock = Stopwatch()
    estimator = adapter.load(settings, Path(weights_dir))
    clock.loaded()
    out = [dict(_row(Attributes(status="not_run"))) for _ in range(len(rows))]
    batch: list[tuple[int, object]] = []

    def flush():
        if not batch:
            return
        results = with_retry(
            lambda items: estimator.predict_batch([b[1] for b in items], [None] * len(items)),
            batch,
            lambda exc: Attributes(status=failure_status(exc)),
        )
        for (pos, _), res in zip(batch, results, strict=True):
            out[pos] = _row(res)
        batch.clear()

    for pos, path in enumerate(rows["path"]):
        try:
            batch.append((pos, load_rgb(path, max_side)))
        except ImageError as exc:
            out[pos] = _row(Attributes(status=f"{exc.reason}: {exc.detail}"))
        if len(batch) >= batch_size:
            flush()
    flush()
    speed = clock.speed(len(rows))
    pred = pd.DataFrame(out, index=rows.index)
    table = pd.concat([rows[["image_id", "person", "age", "gender"]], pred], axis=1)
    timing = {
        "estimator": estimator_name,
        "predicted": int(table["age_pred"].notna().sum()),
        **speed,  # model loading excluded (faceage.adapters.Stopwatch)
        "python": sys.version.split()[0],
        "provenance": adapter.provenance(settings, Path(weights_dir)),
    }
    return table[PREDICTION_COLUMNS].reset_index(drop=True), timing
