"""insightface's 10-fold verification accuracy, with folds that never split a person.

Follows insightface's ``recognition/arcface_torch/eval/verification.py`` (``calculate_roc``)
exactly; the conventions are in :mod:`faceage.analysis.verification` and docs/verification.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from faceage.analysis.bootstrap import (
    subset_rng,
)

INSIGHTFACE_THRESHOLDS = np.arange(0, 4, 0.01)  # squared L2 distance of unit vectors
N_FOLDS = 10


def insightface_accuracy(
    similarity, genuine, folds, thresholds: np.ndarray = INSIGHTFACE_THRESHOLDS
) -> dict:
    """10-fold accuracy exactly as insightface's ``calculate_roc`` computes it.

    ``folds`` gives each pair's fold label (any hashable; pairs with fold -1
    or NaN are left out). Distance = 2 - 2 * cosine; a pair is called "same"
    when distance < threshold. For each fold, the threshold maximising the
    accuracy on all other folds (``numpy.argmax``: the smallest on ties) is
    applied to the fold. Folds without pairs are skipped. Vectorised with
    sorted counts, so it costs O(n log n + folds x thresholds).

    Returns ``acc_mean``, ``acc_std`` (ddof=0), ``acc_folds`` (used),
    ``fold_accuracy`` and ``fold_threshold`` (as cosine: 1 - t / 2) arrays.
    """
    s = np.asarray(similarity, dtype=np.float64)
    g = np.asarray(genuine).astype(bool)
    f = np.asarray(folds)
    if np.issubdtype(f.dtype, np.number):  # fold numbers: no per-pair Python objects
        keep = np.isfinite(f) & (f != -1) & np.isfinite(s)
        if not keep.all():
            s, g, f = s[keep], g[keep], f[keep]
        fold_ids = list(np.unique(f))
    else:
        fs = pd.Series(f.astype(object))
        keep = fs.notna().to_numpy() & (fs.astype(str) != "-1").to_numpy() & np.isfinite(s)
        s, g, f = s[keep], g[keep], fs[keep].to_numpy()
        fold_ids = sorted(pd.unique(f), key=lambda x: (str(type(x)), x))
    k = len(fold_ids)
    nt = len(thresholds)
    gen_below = np.zeros(
        (k, nt), dtype=np.int64
    )  # genuine pairs with dist < t (called same: correct)
    imp_below = np.zeros(
        (k, nt), dtype=np.int64
    )  # impostor pairs with dist < t (called same: wrong)
    n_gen = np.zeros(k, dtype=np.int64)
    n_imp = np.zeros(k, dtype=np.int64)
    for i, fid in enumerate(fold_ids):
        m = f == fid
        dg = np.sort(2.0 - 2.0 * s[m & g])  # distance = 2 - 2 cosine
        di = np.sort(2.0 - 2.0 * s[m & ~g])
        gen_below[i] = np.searchsorted(dg, thresholds, side="left")
        imp_below[i] = np.searchsorted(di, thresholds, side="left")
        n_gen[i], n_imp[i] = len(dg), len(di)
    correct = gen_below + (n_imp[:, None] - imp_below)  # per fold, per threshold
    n = n_gen + n_imp
    total_correct = correct.sum(axis=0)
    accs, thrs = [], []
    for i in range(k):
        n_train = n.sum() - n[i]
        if n[i] == 0 or n_train == 0:
            continue
        best = int(np.argmax(total_correct - correct[i]))
        accs.append(correct[i, best] / n[i])
        thrs.append(1.0 - thresholds[best] / 2.0)
    accs_a = np.asarray(accs, dtype=float)
    return {
        "acc_mean": float(np.mean(accs_a)) if len(accs_a) else np.nan,
        "acc_std": float(np.std(accs_a)) if len(accs_a) else np.nan,
        "acc_folds": int(len(accs_a)),
        "fold_accuracy": accs_a,
        "fold_threshold": np.asarray(thrs, dtype=float),
    }


def person_folds(person_a, person_b, genuine, n_folds: int = N_FOLDS) -> np.ndarray:
    """Fold (0..n_folds-1) per pair such that no person appears in two folds; -1 = left out.

    Persons are dealt greedily: most genuine pairs first (then by name), each
    to the fold holding the fewest genuine pairs so far (then the lowest
    fold). A genuine pair takes its person's fold; an impostor pair takes the
    common fold of its two persons, or -1 when they sit in different folds.
    Deterministic.
    """
    pa = np.asarray(person_a)
    n = len(pa)
    codes, names = pd.factorize(np.concatenate([pa, np.asarray(person_b)]), sort=True)
    ca, cb = codes[:n], codes[n:]
    g = np.asarray(genuine).astype(bool)
    count = np.bincount(ca[g], minlength=len(names))
    order = np.lexsort((np.arange(len(names)), -count))  # most genuine pairs, then name
    load = np.zeros(n_folds, dtype=np.int64)
    fold_of = np.empty(len(names), dtype=np.int64)
    for p in order:
        k = int(np.argmin(load))  # argmin returns the lowest fold on ties
        fold_of[p] = k
        load[k] += count[p]
    fa, fb = fold_of[ca], fold_of[cb]
    return np.where(fa == fb, fa, -1)


def balance_folds(folds: np.ndarray, genuine, rng: np.random.Generator) -> np.ndarray:
    """Subsample the larger class of each fold to the size of the smaller (others -> -1)."""
    folds = np.asarray(folds).copy()
    g = np.asarray(genuine).astype(bool)
    for fid in np.unique(folds[folds >= 0]):
        gi = np.flatnonzero((folds == fid) & g)
        ii = np.flatnonzero((folds == fid) & ~g)
        big, small = (gi, ii) if len(gi) > len(ii) else (ii, gi)
        if len(big) > len(small):
            drop = rng.choice(big, size=len(big) - len(small), replace=False)
            folds[drop] = -1
    return folds


MIN_ACCURACY_PAIRS = 5


def subset_accuracy(
    similarity,
    genuine,
    person_a,
    person_b,
    fold,
    label: str,
    n_folds: int = N_FOLDS,
    balance: bool = True,
    seed: int = 0,
    min_pairs: int = MIN_ACCURACY_PAIRS,
) -> dict:
    """Person-disjoint 10-fold insightface accuracy of one subset of scored pairs.

    Folds come from the pairs' ``fold`` (drawn by the comparisons stage; NaN where missing)
    when every pair has one, else from :func:`person_folds`. The accuracy is
    left empty (NaN, with ``acc_note``) unless at least two folds hold pairs
    and each of them holds at least ``min_pairs`` pairs of each class.
    """
    genuine = np.asarray(genuine)
    fold = None if fold is None else np.asarray(fold, dtype=np.float64)
    if fold is not None and len(fold) and np.isfinite(fold).all():
        folds = fold.astype(np.int32)
    else:
        folds = person_folds(person_a, person_b, genuine, n_folds)
    if balance:
        folds = balance_folds(folds, genuine, subset_rng(seed, "folds:" + label))
    g = genuine.astype(bool)
    used = folds >= 0
    present = np.unique(folds[used])
    size = int(present.max()) + 1 if len(present) else 0
    n_gen = np.bincount(folds[used & g], minlength=size)
    n_imp = np.bincount(folds[used & ~g], minlength=size)
    short = [int(k) for k in present if min(n_gen[k], n_imp[k]) < min_pairs]
    if len(present) < 2:
        short = short or [int(present[0]) if len(present) else 0]
    res = insightface_accuracy(similarity, genuine, folds)
    out = {
        "acc_mean": res["acc_mean"],
        "acc_std": res["acc_std"],
        "acc_folds": res["acc_folds"],
        "acc_pairs": int(used.sum()),
        "acc_threshold": float(np.mean(res["fold_threshold"])) if res["acc_folds"] else np.nan,
        "acc_note": "",
    }
    if short:
        k = short[0]
        out["acc_mean"] = out["acc_std"] = np.nan
        ng, ni = (n_gen[k], n_imp[k]) if k < size else (0, 0)
        out["acc_note"] = (
            f"accuracy not reported: {len(short)} of {len(present)} folds hold fewer than "
            f"{min_pairs} pairs of a class (fold {k}: {ng} genuine, {ni} impostor)"
            if len(present) >= 2
            else f"accuracy not reported: {len(present)} fold (needs at least 2)"
        )
    return out
