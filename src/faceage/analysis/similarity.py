"""The original study's tables, per model side by side, plus similarity by age gap.

All statistics are of cosine similarity (see :mod:`faceage.scores`). Pairs
without a score (an image had no embedding) are left out and counted in
``n_unscored``. Standard deviations are sample standard deviations (ddof=1);
empty where fewer than two pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STATS = ["mean", "std", "n"]


def _stats(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = df.groupby(keys, observed=True, sort=True)["similarity"]
    out = g.agg(mean="mean", std="std", n="count")
    out["n_unscored"] = g.size() - out["n"]
    return out


def _side_by_side(per_model: dict[str, pd.DataFrame], order: list | None) -> pd.DataFrame:
    frames = []
    for model, t in per_model.items():
        t = t.copy()
        t.columns = [f"{model}_{c}" for c in t.columns]
        frames.append(t)
    wide = pd.concat(frames, axis=1) if frames else pd.DataFrame()
    if order is not None and len(wide):
        wide = wide.reindex([o for o in order if o in wide.index])
    for c in wide.columns:
        if c.endswith("_n") or c.endswith("_n_unscored"):
            wide[c] = wide[c].fillna(0).astype(int)
    return wide.reset_index()


def within_range_table(scores: dict[str, pd.DataFrame], ranges: list[str]) -> pd.DataFrame:
    """Genuine pairs whose two images fall in the same age range: mean, std, n per range.

    The original study's first table. Impostor pairs in the same range are
    added as ``<model>_impostor_mean`` so a reader sees the margin, not just
    the level.
    """
    per_model = {}
    for model, s in scores.items():
        same = s[s["range_a"] == s["range_b"]].rename(columns={"range_a": "age_range"})
        gen = _stats(same[same["genuine"] == 1], ["age_range"])
        imp = (
            same[same["genuine"] == 0]
            .groupby("age_range")["similarity"]
            .mean()
            .rename("impostor_mean")
        )
        per_model[model] = gen.join(imp, how="outer")
    return _side_by_side(per_model, ranges)


def between_ranges_table(scores: dict[str, pd.DataFrame], ranges: list[str]) -> pd.DataFrame:
    """Genuine pairs for every pair of age ranges (younger image's range first)."""
    per_model = {
        model: _stats(s[s["genuine"] == 1], ["range_a", "range_b"]) for model, s in scores.items()
    }
    order = [(a, b) for i, a in enumerate(ranges) for b in ranges[i:]]
    return _side_by_side(per_model, order)


def by_gap_table(scores: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Long table: model, pair kind, age gap (years) -> mean, std, n of similarity."""
    rows = []
    for model, s in scores.items():
        t = _stats(s, ["genuine", "age_gap"]).reset_index()
        t.insert(0, "model", model)
        rows.append(t)
    out = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["model", "genuine", "age_gap"] + STATS)
    )
    out["pairs"] = np.where(out["genuine"] == 1, "genuine", "impostor")
    return out[["model", "pairs", "age_gap", "mean", "std", "n", "n_unscored"]]
