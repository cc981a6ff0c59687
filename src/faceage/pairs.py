"""The comparisons stage: genuine and impostor pairs with their ages.

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

from faceage.bins import bin_labels, bin_of
from faceage.contracts import PAIR_COLUMNS

log = logging.getLogger(__name__)

DEFAULT_AGE_BINS = [0, 11, 21, 31, 41, 51, 61, 71]


def range_labels(bins: list[int]) -> list[str]:
    """Labels of the age ranges whose left edges are ``bins`` (:func:`faceage.bins.bin_labels`)."""
    return bin_labels(bins)


def age_range(ages, bins: list[int]) -> np.ndarray:
    """The range label of each age (years); None below the first edge."""
    return bin_of(ages, bins)


def _codes(values, categories: pd.Index) -> np.ndarray:
    return categories.get_indexer(pd.Index(values)).astype(np.int32)


def _frame(clean: pd.DataFrame, ia: np.ndarray, ib: np.ndarray, genuine: int, bins) -> pd.DataFrame:
    """Pairs of rows ``ia``/``ib`` of ``clean`` (sorted by image id), ordered so that
    ``age_a <= age_b`` (ties: image id order). Text columns are categoricals whose categories
    are the image ids, persons and age ranges of ``clean``: a few bytes per pair."""
    ages = clean["age"].to_numpy(dtype=float)
    ids = pd.Index(clean["image_id"].astype(str).to_numpy(dtype=object))
    persons = pd.Index(sorted(set(clean["person"].astype(str))))
    person_code = _codes(clean["person"].astype(str).to_numpy(dtype=object), persons)
    labels = pd.Index(range_labels(bins))
    range_code = _codes(age_range(ages, bins), labels)
    ia, ib = np.asarray(ia, dtype=np.int64), np.asarray(ib, dtype=np.int64)
    # ids are sorted, so the id order of two rows is their row order
    swap = (ages[ia] > ages[ib]) | ((ages[ia] == ages[ib]) & (ia > ib))
    a = np.where(swap, ib, ia)
    b = np.where(swap, ia, ib)

    def cat(codes, categories):
        return pd.Categorical.from_codes(codes, categories=categories)

    df = pd.DataFrame(
        {
            "image_a": cat(a.astype(np.int32), ids),
            "image_b": cat(b.astype(np.int32), ids),
            "person_a": cat(person_code[a], persons),
            "person_b": cat(person_code[b], persons),
            "genuine": np.full(len(a), genuine, dtype=np.int8),
            "age_a": ages[a].astype(np.int32),
            "age_b": ages[b].astype(np.int32),
        }
    )
    df["age_gap"] = df["age_b"] - df["age_a"]
    df["range_a"] = cat(range_code[a], labels)
    df["range_b"] = cat(range_code[b], labels)
    return df


def genuine_pairs(
    clean: pd.DataFrame,
    bins: list[int] = DEFAULT_AGE_BINS,
    max_per_person: int | None = None,
    seed: int = 42,
) -> pd.DataFrame:
    """Every pair of two images of the same person.

    ``max_per_person``: a person with more genuine pairs keeps this many, drawn at random
    (seeded per person, so adding a person changes no one else's draw); the pairs left out are
    in ``attrs["capped_left_out"]`` (``{age_gap: count}``) and ``attrs["capped_persons"]``.
    """
    clean = clean.sort_values("image_id", kind="stable").reset_index(drop=True)
    ia_parts, ib_parts, left_a, left_b, capped = [], [], [], [], 0
    for k, (_, idx) in enumerate(clean.groupby("person", sort=True).indices.items()):
        idx = np.sort(idx)
        if len(idx) < 2:
            continue
        i, j = np.triu_indices(len(idx), k=1)
        if max_per_person is not None and len(i) > max_per_person:
            rng = np.random.default_rng(np.random.SeedSequence([seed, k]))
            keep = np.zeros(len(i), dtype=bool)
            keep[rng.choice(len(i), max_per_person, replace=False)] = True
            left_a.append(idx[i[~keep]])
            left_b.append(idx[j[~keep]])
            i, j = i[keep], j[keep]
            capped += 1
        ia_parts.append(idx[i])
        ib_parts.append(idx[j])
    if not ia_parts:
        out = _frame(clean, np.array([], int), np.array([], int), 1, bins)
    else:
        out = _frame(clean, np.concatenate(ia_parts), np.concatenate(ib_parts), 1, bins)
    gaps = {}
    if left_a:
        age = clean["age"].to_numpy(dtype=np.int64)
        a, b = np.concatenate(left_a), np.concatenate(left_b)
        gap = pd.Series(np.abs(age[b] - age[a]))
        gaps = {int(g): int(n) for g, n in gap.value_counts().sort_index().items()}
    out.attrs["capped_left_out"] = gaps
    out.attrs["capped_persons"] = capped
    return out


def _all_cross_pairs(persons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(len(persons), k=1)
    keep = persons[i] != persons[j]
    return i[keep], j[keep]


def _sample_gap(ages, persons, by_age, gap, want, rng, max_rounds=60):
    """Draw up to ``want`` distinct cross-person pairs (i, j) with age_j - age_i == gap."""
    starts = np.array([a for a in by_age if (a + gap) in by_age])
    if len(starts) == 0 or want <= 0:
        return np.empty((0, 2), dtype=np.int64)
    # images whose age + gap is present, weighted by the partner pool size:
    # uniform over all (i, j) with the right gap.
    cand = np.concatenate([by_age[a] for a in starts])
    weights = np.concatenate(
        [np.full(len(by_age[a]), len(by_age[a + gap]), dtype=float) for a in starts]
    )
    total = weights.sum()
    if total <= 4 * want:  # small pool: enumerate it and sample without replacement
        pi, pj = [], []
        for a in starts:
            ii, jj = np.meshgrid(by_age[a], by_age[a + gap], indexing="ij")
            pi.append(ii.ravel())
            pj.append(jj.ravel())
        pi, pj = np.concatenate(pi), np.concatenate(pj)
        ok = persons[pi] != persons[pj]
        if gap == 0:
            ok &= pi < pj
        pool = np.stack([pi[ok], pj[ok]], axis=1)
        take = min(want, len(pool))
        return pool[np.sort(rng.choice(len(pool), size=take, replace=False))]
    p = weights / total
    # the images of each age, in index order (by_age's), as one array
    order = np.argsort(ages, kind="stable")
    first = np.searchsorted(ages[order], np.arange(ages.max() + gap + 2))
    size = np.diff(first)
    code = pd.factorize(persons)[0]
    width = len(ages)
    seen = np.empty(0, dtype=np.int64)
    out: list[np.ndarray] = []
    got = 0
    for _ in range(max_rounds):
        need = want - got
        if need <= 0:
            break
        n = int(need * 1.5) + 16
        i = rng.choice(cand, size=n, p=p)
        target = ages[i] + gap
        # one draw per candidate from its partner pool, the stream of one call per candidate
        j = order[first[target] + rng.integers(0, size[target])]
        ok = (code[i] != code[j]) & (i != j)
        a, b = (np.minimum(i, j), np.maximum(i, j)) if gap == 0 else (i, j)
        key = a[ok] * width + b[ok]
        _, at = np.unique(key, return_index=True)
        at = np.sort(at)  # each key's first draw, in draw order
        at = at[~np.isin(key[at], seen)][:need]
        seen = np.union1d(seen, key[at])
        out.append(np.stack([a[ok][at], b[ok][at]], axis=1))
        got += len(at)
    return np.concatenate(out).astype(np.int64) if out else np.empty((0, 2), dtype=np.int64)


def impostor_pairs(
    clean: pd.DataFrame,
    genuine: pd.DataFrame,
    *,
    mode: str = "matched",
    ratio: float = 1.0,
    seed: int = 42,
    bins: list[int] = DEFAULT_AGE_BINS,
) -> pd.DataFrame:
    """Pairs of images of different persons.

    ``mode="matched"``: for each age gap g (years) present among the genuine
    pairs, draw ``round(ratio * n_genuine(g))`` distinct impostor pairs whose
    gap is exactly g (fewer if the data hold fewer; logged). ``mode="all"``:
    every cross-person pair. ``mode="none"``: no impostors.
    """
    clean = clean.sort_values("image_id", kind="stable").reset_index(drop=True)
    persons = clean["person"].to_numpy(dtype=object)
    if mode == "none" or len(clean) == 0:
        return _frame(clean, np.array([], int), np.array([], int), 0, bins)
    if mode == "all":
        i, j = _all_cross_pairs(persons)
        return _frame(clean, i, j, 0, bins)
    if mode != "matched":
        raise ValueError(f"impostor mode must be matched, all or none, got {mode!r}")
    ages = clean["age"].to_numpy(dtype=int)
    by_age = {int(a): np.flatnonzero(ages == a) for a in np.unique(ages)}
    rng = np.random.default_rng(seed)
    parts, short = [], 0
    for gap, n_gen in genuine["age_gap"].value_counts().sort_index().items():
        want = int(round(ratio * n_gen))
        got = _sample_gap(ages, persons, by_age, int(gap), want, rng)
        short += want - len(got)
        parts.append(got)
    if short:
        log.warning(
            "impostor sampling: %d pairs short of the matched target (gaps with too few persons)",
            short,
        )
    pairs = np.concatenate(parts) if parts else np.empty((0, 2), dtype=np.int64)
    return _frame(clean, pairs[:, 0], pairs[:, 1], 0, bins)


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
