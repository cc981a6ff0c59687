"""The operating impostor pool: the impostor pairs every threshold "at FMR = f" is set on.

The age-matched impostors of ``pairs.parquet`` serve the per-bin ROC figures (AUC, EER, per-bin
TAR, accuracy): a gap bin's genuine pairs against impostors as far apart in age. A deployed
threshold is set on impostors of every age (NIST FRVT), and a small FMR needs many of them:
FMR 1e-3 needs 10,000, 1e-5 a million (:func:`faceage.analysis.operating.estimable`). So the
comparisons stage also writes ``operating_pairs.parquet`` (:func:`operating_pairs`):

* every cross-person pair when there are at most ``max_pairs`` of them (FG-NET: 466,377 with
  the default 1,000,000 - exhaustive);
* otherwise a seeded sample of ``max_pairs`` distinct pairs, **persons balanced**: each pair
  draws two different persons uniformly, then one image of each uniformly, so a person with
  many photos is not in quadratically many pairs (AgeDB, CACD: 1 M of 1e8 or more).

Two names of one photo (``alias_of``) never make a pair. The columns are the pairs table's
(``PAIR_COLUMNS``, ``genuine`` 0); ``pair_id`` counts the pool's own pairs from 0.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from faceage.pair_sampling import DEFAULT_AGE_BINS, _all_cross_pairs, _frame
from faceage.pairs import _content, _drop_copies

log = logging.getLogger(__name__)

DEFAULT_MAX_PAIRS = 1_000_000


def n_cross_pairs(persons) -> int:
    """Number of pairs of two images of different persons."""
    n = pd.Series(persons).value_counts().to_numpy(dtype=np.int64)
    total = int(n.sum())
    return (total * total - int((n * n).sum())) // 2


def _balanced_sample(person_code: np.ndarray, want: int, rng, max_rounds: int = 200):
    """``want`` distinct cross-person pairs (i < j): two different persons uniformly, one image
    of each uniformly; repeated in rounds until enough distinct pairs are drawn."""
    n_img = len(person_code)
    order = np.argsort(person_code, kind="stable")
    sizes = np.bincount(person_code)
    start = np.r_[0, np.cumsum(sizes)[:-1]]
    n_persons = len(sizes)
    seen = np.empty(0, dtype=np.int64)
    got = 0
    for _ in range(max_rounds):
        need = want - got
        if need <= 0:
            break
        m = int(need * 1.2) + 64
        pa = rng.integers(0, n_persons, size=m)
        pb = rng.integers(0, n_persons - 1, size=m)
        pb = pb + (pb >= pa)
        i = order[start[pa] + (rng.random(m) * sizes[pa]).astype(np.int64)]
        j = order[start[pb] + (rng.random(m) * sizes[pb]).astype(np.int64)]
        key = np.minimum(i, j) * n_img + np.maximum(i, j)
        _, first = np.unique(key, return_index=True)
        first = np.sort(first)  # each key's first draw, in draw order
        fresh = key[first][~np.isin(key[first], seen)][:need]
        seen = np.union1d(seen, fresh)
        got = len(seen)
    if got < want:
        log.warning("operating pool: %d distinct pairs drawn of %d wanted", got, want)
    return seen // n_img, seen % n_img


def operating_pairs(
    clean: pd.DataFrame,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    seed: int = 42,
    bins=DEFAULT_AGE_BINS,
) -> pd.DataFrame:
    """The operating impostor pool of ``clean`` (module docstring), sorted by
    (image_a, image_b). ``attrs``: ``n_cross_pairs`` (all cross-person pairs of ``clean``),
    ``exhaustive`` (the pool is all of them)."""
    clean = clean.sort_values("image_id", kind="stable").reset_index(drop=True)
    persons = clean["person"].astype(str).to_numpy(dtype=object)
    total = n_cross_pairs(persons)
    if total <= max_pairs:
        i, j = _all_cross_pairs(persons)
    else:
        code = pd.factorize(pd.Series(persons), sort=True)[0]
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 19795]))
        i, j = _balanced_sample(code, int(max_pairs), rng)
    pool, copies = _drop_copies(_frame(clean, i, j, 0, bins), _content(clean))
    if len(copies):
        log.info("operating pool: left out %d pairs of two copies of one photo", len(copies))
    order = np.lexsort((pool["image_b"].cat.codes.to_numpy(), pool["image_a"].cat.codes.to_numpy()))
    pool = pool.iloc[order].reset_index(drop=True)
    pool.insert(0, "pair_id", np.arange(len(pool), dtype=np.int64))
    pool.attrs["n_cross_pairs"] = total
    pool.attrs["exhaustive"] = total <= max_pairs
    return pool
