"""Pair sampling: genuine and impostor pairs of images, with their ages.

* Genuine pairs: every pair of two images of the same person (as the
  original study), ages ordered so that ``age_a <= age_b``.
* Impostor pairs: two images of different persons, drawn with a fixed seed
  so that their age-gap distribution matches the genuine pairs' (for every
  gap in years, ``ratio`` x as many impostor pairs as genuine ones), or all
  cross-person pairs (``mode="all"``; only for small sets).

Age ranges: ``bins`` are left edges in years (:mod:`faceage.bins`, the one
convention of the workflow); the default ``[0, 11, 21, 31, 41, 51, 61, 71]``
gives ``0-10``, ``11-20``, ..., ``61-70``, ``71+`` (the original's <=10,
10-20, ..., 60-70, 70+). The comparisons table (folds, copies, one sorted
table) is assembled by :mod:`faceage.pairs`.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from faceage.bins import bin_labels, bin_of

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
