"""Failure to enrol by age range, with Wilson intervals (:func:`failure_to_enrol`).

Conventions: :mod:`faceage.analysis.paired`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from faceage.bins import bin_index, bin_labels
from faceage.contracts import STATUS_OK

FTE_COLUMNS = [
    "model",
    "age_range",
    "n_images",
    "n_not_enrolled",
    "fte",
    "fte_lo",
    "fte_hi",
    "method",
]


def enrolment(images: pd.DataFrame, image_id, status) -> pd.DataFrame:
    """``images`` (``image_id``, ``age``: the clean manifest's own images) with ``enrolled``:
    whether the model's embeddings (``image_id``, ``status`` per embedded image) hold an
    embedding of it (status ``ok``); an image the embeddings do not name is not enrolled."""
    ok = pd.Series(pd.Series(status).to_numpy() == STATUS_OK, index=pd.Index(image_id))
    enrolled = ok.reindex(images["image_id"].astype(str)).fillna(False).to_numpy(bool)
    return images[["image_id", "age"]].assign(enrolled=enrolled)


def failure_to_enrol(
    images: Mapping[str, pd.DataFrame] | pd.DataFrame,
    age_edges: Sequence[int],
    confidence: float = 0.95,
    method: str = "wilson",
) -> pd.DataFrame:
    """Share of images a model did not enrol, per age range, with a binomial interval.

    ``images``: {model: table with ``image_id``, ``age``, ``enrolled`` (bool)} or one table (with
    a ``model`` column, or one unnamed model ``""``). ``age_edges``: left edges of the age ranges
    (:mod:`faceage.bins`). ``method`` is passed to ``statsmodels``' ``proportion_confint``
    (``"wilson"``; ``"beta"`` is Clopper-Pearson). Returns :data:`FTE_COLUMNS`, per model one row
    per age range (in order; an empty range has ``n_images`` 0 and an empty share), then
    ``unknown`` (only when some images have no age or one below the first edge), then ``all``.
    Raises ``ValueError`` when ``enrolled`` is missing for an image.
    """
    from statsmodels.stats.proportion import proportion_confint

    if isinstance(images, pd.DataFrame):
        if "model" in images.columns:
            tables = {m: t for m, t in images.groupby("model", sort=False)}
        else:
            tables = {"": images}
    else:
        tables = dict(images)
    labels = bin_labels(age_edges)
    rows = []
    for model, t in tables.items():
        if t["enrolled"].isna().any():
            raise ValueError(f"model {model!r}: enrolled is missing for some images")
        enrolled = t["enrolled"].astype(bool).to_numpy()
        age = pd.to_numeric(t["age"], errors="coerce").to_numpy(dtype=np.float64)
        idx = bin_index(age, age_edges)
        groups = [(lab, idx == k) for k, lab in enumerate(labels)]
        if (idx < 0).any():
            groups.append(("unknown", idx < 0))
        groups.append(("all", np.ones(len(t), dtype=bool)))
        for lab, mask in groups:
            n_img = int(mask.sum())
            n_fail = int((mask & ~enrolled).sum())
            if n_img:
                lo, hi = proportion_confint(n_fail, n_img, alpha=1 - confidence, method=method)
                # exact ends where they are exact (Wilson's formula leaves ~1e-17 of round-off)
                lo = 0.0 if n_fail == 0 else min(max(lo, 0.0), 1.0)
                hi = 1.0 if n_fail == n_img else min(max(hi, 0.0), 1.0)
                share = n_fail / n_img
            else:
                lo = hi = share = np.nan
            rows.append(
                {
                    "model": model,
                    "age_range": lab,
                    "n_images": n_img,
                    "n_not_enrolled": n_fail,
                    "fte": share,
                    "fte_lo": float(lo),
                    "fte_hi": float(hi),
                    "method": method,
                }
            )
    return pd.DataFrame(rows, columns=FTE_COLUMNS)
