"""The comparisons stage: genuine and impostor pairs with their ages, as one table.

The pairs are drawn by :mod:`faceage.pair_sampling`:

* Genuine pairs: every pair of two images of the same person (as the
  original study), ages ordered so that ``age_a <= age_b``.
* Impostor pairs: two images of different persons, drawn with a fixed seed
  so that their age-gap distribution matches the genuine pairs' (for every
  gap in years, ``ratio`` x as many impostor pairs as genuine ones), or all
  cross-person pairs (``mode="all"``; only for small sets).

Folds: with ``folds=k`` (the workflow's ``comparisons.folds``), persons are
dealt to k folds *before* impostors are drawn and every impostor pair is
drawn within one fold (each fold's impostors matched to that fold's genuine
gaps), so the person-disjoint 10-fold accuracy of the verification stage can
use every pair. ``fold`` is written into ``pairs.parquet``.

Copies: two names of one photo (byte-identical files, ``alias_of``) are not
a pair of two photos: such pairs are left out and counted
(``copies_left_out`` in the summary).

Age ranges: ``bins`` are left edges in years (:mod:`faceage.bins`, the one
convention of the workflow); the default ``[0, 11, 21, 31, 41, 51, 61, 71]``
gives ``0-10``, ``11-20``, ..., ``61-70``, ``71+`` (the original's <=10,
10-20, ..., 60-70, 70+).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from faceage.contracts import PAIR_COLUMNS
from faceage.pair_sampling import DEFAULT_AGE_BINS, genuine_pairs, impostor_pairs

log = logging.getLogger(__name__)


def person_folds(clean: pd.DataFrame, n_folds: int) -> dict[str, int]:
    """Fold (0..n_folds-1) of every person, balanced by genuine pairs.

    Greedy: persons with most genuine pairs first (then by name), each to the
    fold holding the fewest genuine pairs so far (then the lowest fold).
    Deterministic.
    """
    sizes = clean.groupby("person", sort=True).size()
    order = sorted(sizes.items(), key=lambda kv: (-(kv[1] * (kv[1] - 1) // 2), str(kv[0])))
    load = np.zeros(n_folds, dtype=np.int64)
    fold_of: dict[str, int] = {}
    for person, n in order:
        k = int(np.argmin(load))
        fold_of[person] = k
        load[k] += n * (n - 1) // 2
    return fold_of


def _content(clean: pd.DataFrame) -> pd.Series:
    """Per image id, the id of the photo it is a copy of (itself when it is no alias)."""
    ids = clean["image_id"].astype(str)
    if "alias_of" not in clean:
        return pd.Series(ids.to_numpy(), index=ids.to_numpy())
    return pd.Series(
        clean["alias_of"].fillna(clean["image_id"]).astype(str).to_numpy(), index=ids.to_numpy()
    )


def _drop_copies(pairs: pd.DataFrame, content: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = pairs["image_a"].cat.categories  # image_b has the same (see _on)
    photo = pd.Index(ids).get_indexer(content.reindex(ids).to_numpy())  # per id: its photo
    same = photo[pairs["image_a"].cat.codes] == photo[pairs["image_b"].cat.codes]
    return pairs[~same], pairs[same]


def _on(pairs: pd.DataFrame, clean: pd.DataFrame) -> pd.DataFrame:
    """``pairs`` (of a part of ``clean``) with the image and person categories of all of it."""
    ids = pd.Index(clean["image_id"].astype(str).to_numpy(dtype=object))
    persons = pd.Index(sorted(set(clean["person"].astype(str))))
    out = pairs.copy()
    for col, cats in (("image", ids), ("person", persons)):
        for side in ("_a", "_b"):
            out[col + side] = out[col + side].cat.set_categories(cats)
    return out


def _sorted_blocks(*blocks: pd.DataFrame) -> pd.DataFrame:
    """The blocks one after the other, each sorted by (image_a, image_b) - the categories are
    in id order, so sorting the codes sorts the ids - built a column at a time, so the peak is
    the blocks plus the result, not the sorted copies of the blocks too."""
    orders = [
        np.lexsort((b["image_b"].cat.codes.to_numpy(), b["image_a"].cat.codes.to_numpy()))
        for b in blocks
    ]
    out = pd.DataFrame(index=pd.RangeIndex(sum(len(b) for b in blocks)))
    for col in blocks[0].columns:
        dtype = blocks[0][col].dtype
        cat = isinstance(dtype, pd.CategoricalDtype)
        parts = [
            (b[col].cat.codes if cat else b[col]).to_numpy()[o]
            for b, o in zip(blocks, orders, strict=True)
        ]
        values = np.concatenate(parts)
        out[col] = pd.Categorical.from_codes(values, dtype=dtype) if cat else values
    return out


def make_pairs(
    clean: pd.DataFrame,
    *,
    bins=DEFAULT_AGE_BINS,
    mode="matched",
    ratio=1.0,
    seed=42,
    folds: int | None = None,
    max_genuine_per_person: int | None = None,
) -> pd.DataFrame:
    """Genuine then impostor pairs, each block sorted, with a running ``pair_id`` and ``fold``.

    ``max_genuine_per_person``: see :func:`genuine_pairs`; impostors are matched to the genuine
    pairs kept. The pairs left out per gap are in ``attrs["capped_left_out"]``.

    ``folds=None``: impostors drawn over all persons and ``fold`` left empty.
    ``folds=k``: persons dealt to k folds first, impostors drawn within each
    fold (``mode="all"``: every cross-person pair; those across folds get
    fold -1). Pairs of two copies of one photo are left out; their count per
    gap is in ``pairs.attrs["copies_left_out"]``.
    """
    clean = clean.sort_values("image_id", kind="stable").reset_index(drop=True)
    content = _content(clean)
    gen = genuine_pairs(clean, bins, max_genuine_per_person, seed)
    capped = gen.attrs
    if capped["capped_persons"]:
        log.info(
            "comparisons.max_genuine_per_person=%d: %d persons capped, %d genuine pairs left out",
            max_genuine_per_person,
            capped["capped_persons"],
            sum(capped["capped_left_out"].values()),
        )
    if folds is None:
        imp = impostor_pairs(clean, gen, mode=mode, ratio=ratio, seed=seed, bins=bins)
        fold_of = None
    else:
        n_persons = clean["person"].nunique()
        used = max(
            1, min(folds, n_persons // 2)
        )  # at least two persons per fold, so it has impostors
        if used < folds:
            log.warning(
                "%d persons: dealt to %d folds instead of %d (two persons per fold at least)",
                n_persons,
                used,
                folds,
            )
        fold_of = person_folds(clean, used)
        pf = clean["person"].map(fold_of).to_numpy()
        gen_fold = gen["person_a"].map(fold_of).to_numpy()
        if mode == "all":
            imp = impostor_pairs(clean, gen, mode=mode, ratio=ratio, seed=seed, bins=bins)
        else:
            parts = []
            for k in range(used):
                sub = clean[pf == k]
                rng_seed = int(np.random.SeedSequence([seed, k]).generate_state(1)[0])
                parts.append(
                    impostor_pairs(
                        sub, gen[gen_fold == k], mode=mode, ratio=ratio, seed=rng_seed, bins=bins
                    )
                )
            parts = [_on(part, clean) for part in parts]
            imp = pd.concat(parts, ignore_index=True) if parts else gen.iloc[:0]
            del parts
    gen, gen_copies = _drop_copies(gen, content)
    imp, imp_copies = _drop_copies(imp, content)
    pairs = _sorted_blocks(gen, imp)
    del gen, imp
    pairs.insert(0, "pair_id", np.arange(len(pairs), dtype=np.int64))
    if fold_of is None:
        pairs["fold"] = pd.arrays.IntegerArray(
            np.zeros(len(pairs), np.int64), np.ones(len(pairs), bool)
        )
    else:
        of = {str(p): k for p, k in fold_of.items()}
        by_code = np.array([of[p] for p in pairs["person_a"].cat.categories], dtype=np.int64)
        fa = by_code[pairs["person_a"].cat.codes.to_numpy()]
        fb = by_code[pairs["person_b"].cat.codes.to_numpy()]
        pairs["fold"] = pd.array(np.where(fa == fb, fa, -1), dtype="Int64")
    copies = pd.concat([gen_copies, imp_copies], ignore_index=True)
    if len(copies):
        log.info(
            "left out %d pairs of two copies of one photo (%d genuine, %d impostor)",
            len(copies),
            len(gen_copies),
            len(imp_copies),
        )
    pairs = pairs[PAIR_COLUMNS + ["fold"]]
    pairs.attrs["copies_left_out"] = (
        copies.groupby("age_gap").size().to_dict() if len(copies) else {}
    )
    pairs.attrs["capped_left_out"] = dict(capped["capped_left_out"])
    return pairs


def pair_summary(pairs: pd.DataFrame) -> pd.DataFrame:
    """Counts of genuine/impostor pairs per age gap (to check the matching).

    ``copies_left_out``: pairs of two copies of one photo left out at that gap;
    ``capped_left_out``: genuine pairs left out by ``comparisons.max_genuine_per_person``.
    """
    t = pairs.groupby(["age_gap", "genuine"]).size().unstack(fill_value=0)
    t = t.rename(columns={0: "impostor", 1: "genuine"}).reindex(
        columns=["genuine", "impostor"], fill_value=0
    )
    copies = pd.Series(pairs.attrs.get("copies_left_out", {}), dtype="int64")
    capped = pd.Series(pairs.attrs.get("capped_left_out", {}), dtype="int64")
    t = t.reindex(t.index.union(copies.index).union(capped.index), fill_value=0)
    t["copies_left_out"] = copies.reindex(t.index, fill_value=0).astype("int64")
    t["capped_left_out"] = capped.reindex(t.index, fill_value=0).astype("int64")
    t.index.name = "age_gap"
    return t.reset_index()
