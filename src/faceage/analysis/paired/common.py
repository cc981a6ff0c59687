"""The pairs every model scored (:func:`common_pairs`). The estimability rule and the person
draws the paired figures share are :mod:`faceage.analysis.operating`'s.

Conventions: :mod:`faceage.analysis.paired`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class CommonPairs:
    """The pairs every model scored.

    ``pairs``: the pair columns (no ``similarity``) of the common pairs, index 0..n-1;
    ``similarity``: one column per model, aligned with ``pairs``; ``summary``: one row per
    model - ``n_pairs`` (pairs in the union of the tables), ``n_unscored`` (pairs this model did
    not score, ``n_unscored_genuine`` of them genuine), ``n_dropped_by_others`` (pairs this model
    scored that left the common set because another model did not), ``n_common``,
    ``n_common_genuine``, ``n_common_impostor``. ``n_pairs = n_unscored + n_dropped_by_others +
    n_common``.
    """

    pairs: pd.DataFrame
    similarity: pd.DataFrame
    summary: pd.DataFrame

    @property
    def models(self) -> list[str]:
        return list(self.similarity.columns)

    def scores(self, model: str) -> pd.DataFrame:
        """One model's scores table restricted to the common pairs."""
        return self.pairs.assign(similarity=self.similarity[model].to_numpy())


def common_pairs(scores: Mapping[str, pd.DataFrame], key: str = "pair_id") -> CommonPairs:
    """Align the models' scores tables on ``key`` and keep the pairs every model scored.

    A pair missing from a model's table counts as unscored by it. When ``key`` is not a column of
    every table, the tables are aligned by position (they must then have the same length).
    Raises ``ValueError`` when a key repeats or the tables disagree on whether a pair is genuine.
    """
    models = list(scores)
    if not models:
        raise ValueError("common_pairs needs at least one model")
    frames = [scores[m].reset_index(drop=True) for m in models]
    keyed = bool(key) and all(key in f.columns for f in frames)
    if keyed:
        for m, f in zip(models, frames, strict=True):
            if f[key].duplicated().any():
                raise ValueError(f"model {m!r}: {key} repeats")
        indexed = [f.set_index(key) for f in frames]
        union = pd.Index(pd.unique(pd.concat([pd.Series(f.index) for f in indexed])), name=key)
    else:
        lengths = [len(f) for f in frames]
        if len(set(lengths)) > 1:
            raise ValueError(
                f"tables without a common {key!r} column must have the same length, got "
                f"{dict(zip(models, lengths, strict=True))}"
            )
        indexed = frames
        union = pd.RangeIndex(lengths[0])
    pair_cols = [c for c in indexed[0].columns if c != "similarity"]
    ref = indexed[0].reindex(union)[pair_cols]
    for f in indexed[1:]:
        ref = ref.combine_first(f.reindex(union)[[c for c in pair_cols if c in f.columns]])
        ref = ref[pair_cols]
    gen = {}
    for m, f in zip(models, indexed, strict=True):
        gen[m] = pd.to_numeric(f["genuine"].reindex(union), errors="coerce")
    g = pd.DataFrame(gen)
    spread = g.max(axis=1) - g.min(axis=1)
    if (spread > 0).any():
        bad = union[np.flatnonzero((spread > 0).to_numpy())[0]]
        raise ValueError(f"models disagree on whether pair {bad!r} is genuine")
    sim = pd.DataFrame(
        {
            m: pd.to_numeric(f["similarity"].reindex(union), errors="coerce").to_numpy(
                dtype=np.float64
            )
            for m, f in zip(models, indexed, strict=True)
        }
    )
    scored = np.isfinite(sim.to_numpy())
    common = scored.all(axis=1)
    genuine = (g.max(axis=1) == 1).to_numpy()
    rows = []
    for j, m in enumerate(models):
        rows.append(
            {
                "model": m,
                "n_pairs": len(union),
                "n_unscored": int((~scored[:, j]).sum()),
                "n_unscored_genuine": int((~scored[:, j] & genuine).sum()),
                "n_dropped_by_others": int((scored[:, j] & ~common).sum()),
                "n_common": int(common.sum()),
                "n_common_genuine": int((common & genuine).sum()),
                "n_common_impostor": int((common & ~genuine).sum()),
            }
        )
    pairs = ref.reset_index() if keyed else ref.reset_index(drop=True)
    pairs = pairs[common].reset_index(drop=True)
    pairs["genuine"] = genuine[common].astype(int)
    return CommonPairs(
        pairs=pairs,
        similarity=sim[common].reset_index(drop=True),
        summary=pd.DataFrame(rows),
    )
