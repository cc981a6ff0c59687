"""Subject-level bootstrap confidence intervals for verification metrics.

Pairs that share a person are not independent: resampling pairs would give
intervals that are far too narrow. Following Bolle et al.'s "subsets
bootstrap", the unit of resampling is the person: each iteration draws the
subset's persons with replacement (as many draws as there are persons), and
every pair enters the resampled ROC with a weight:

* a genuine pair weighs ``c[p]``, the number of times its person was drawn;
* an impostor pair weighs ``c[p] * c[q]`` for its two persons.

A person drawn twice thus counts twice, a person not drawn drops out with all
its pairs. The metrics (AUC, EER, TAR at FAR) are then computed from the
weighted ROC, which equals :func:`sklearn.metrics.roc_curve` with
``sample_weight``; sorting happens once, each iteration costs a few
``O(n)`` array passes, so 1000 iterations over 500k pairs take seconds.

Intervals are percentile intervals (2.5 and 97.5 percentiles for 95 %) over
the iterations in which the metric exists (both classes have weight; an
iteration without impostor or genuine pairs is skipped and counted).
The random generator is ``numpy.random.default_rng(SeedSequence([seed,
crc32(label)]))``: the same seed and subset label always give the same
intervals, whatever other subsets are computed.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


def subset_rng(seed: int, label: str) -> np.random.Generator:
    """A generator that depends only on ``seed`` and the subset ``label``."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(label.encode())]))


def far_key(far: float) -> str:
    """Column name of TAR at one FAR level, e.g. ``tar_far_0.001``."""
    return f"tar_far_{far:g}"


@dataclass
class SortedPairs:
    """Scores sorted once (descending), with the bookkeeping the weighted ROC needs."""

    genuine: np.ndarray  # bool, sorted by descending score
    person_a: np.ndarray  # int codes, sorted
    person_b_eff: np.ndarray  # int codes; for genuine pairs the dummy code n_persons (weight 1)
    group_end: np.ndarray  # index of the last pair of each run of equal scores
    n_persons: int

    @classmethod
    def build(cls, similarity, genuine, person_a, person_b) -> SortedPairs:
        s = np.asarray(similarity, dtype=np.float64)
        g = np.asarray(genuine).astype(bool)
        codes, _ = pd.factorize(pd.concat([pd.Series(np.asarray(person_a, dtype=object)),
                                           pd.Series(np.asarray(person_b, dtype=object))],
                                          ignore_index=True), sort=True)  # fmt: skip
        n = len(s)
        pa, pb = codes[:n], codes[n:]
        n_persons = int(codes.max()) + 1 if n else 0
        order = np.argsort(-s, kind="stable")
        s_sorted = s[order]
        if n:
            group_end = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
        else:
            group_end = np.empty(0, dtype=np.intp)
        g_sorted = g[order]
        pb_eff = np.where(g_sorted, n_persons, pb[order])
        return cls(g_sorted, pa[order], pb_eff, group_end, n_persons)

    def weights(self, counts: np.ndarray) -> np.ndarray:
        """Pair weights for per-person draw ``counts`` (length ``n_persons``)."""
        ext = np.append(counts, 1)
        return ext[self.person_a] * ext[self.person_b_eff]


def weighted_roc(genuine_sorted: np.ndarray, weights: np.ndarray, group_end: np.ndarray):
    """ROC (fpr, tpr), starting at (0, 0), of pairs already sorted by descending score.

    ``group_end`` marks the last index of each run of tied scores, so ties form
    one ROC step as in scikit-learn. Integer weights stay integer (exact and
    faster). Returns (None, None) when one class has no weight.
    """
    zero = weights.dtype.type(0)
    cw = np.cumsum(weights)
    tp = np.cumsum(np.where(genuine_sorted, weights, zero))
    if len(group_end) != len(weights):
        cw, tp = cw[group_end], tp[group_end]
    if len(tp) == 0:
        return None, None
    fp = cw - tp
    if tp[-1] <= 0 or fp[-1] <= 0:
        return None, None
    tpr = np.empty(len(tp) + 1)
    fpr = np.empty(len(fp) + 1)
    tpr[0] = fpr[0] = 0.0
    np.divide(tp, tp[-1], out=tpr[1:])
    np.divide(fp, fp[-1], out=fpr[1:])
    return fpr, tpr


def auc_from_roc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under the ROC by the trapezoid rule (ties count one half)."""
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) * 0.5))


def eer_from_roc(fpr: np.ndarray, tpr: np.ndarray, thresholds: np.ndarray | None = None):
    """Equal error rate: where FAR (= fpr) meets FRR (= 1 - tpr).

    Linear interpolation along the ROC segment on which ``fpr - (1 - tpr)``
    changes sign. Returns (eer, threshold) - the threshold interpolated the
    same way when ``thresholds`` (aligned with ``fpr``) is given, else NaN.
    """
    diff = fpr - (1.0 - tpr)  # non-decreasing along the ROC
    i = int(np.searchsorted(diff, 0.0, side="left"))
    if i == 0:
        return float(fpr[0]), float(thresholds[0]) if thresholds is not None else float("nan")
    if i >= len(diff):
        return float("nan"), float("nan")
    d0, d1 = diff[i - 1], diff[i]
    t = d0 / (d0 - d1) if d1 != d0 else 0.0
    eer = float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))
    thr = float("nan")
    if thresholds is not None:
        lo, hi = thresholds[i - 1], thresholds[i]
        thr = float(hi) if not np.isfinite(lo) else float(lo + t * (hi - lo))
    return eer, thr


def tar_from_roc(fpr: np.ndarray, tpr: np.ndarray, far: float) -> tuple[float, int]:
    """Highest TAR among ROC points with FAR <= ``far`` (no interpolation), and its index."""
    i = int(np.searchsorted(fpr, far * (1 + 1e-12), side="right")) - 1
    return float(tpr[i]), i


def roc_metrics(fpr: np.ndarray, tpr: np.ndarray, far_levels: Sequence[float]) -> dict[str, float]:
    out = {"auc": auc_from_roc(fpr, tpr), "eer": eer_from_roc(fpr, tpr)[0]}
    for far in far_levels:
        out[far_key(far)] = tar_from_roc(fpr, tpr, far)[0]
    return out


def subject_bootstrap(similarity, genuine, person_a, person_b, far_levels: Sequence[float] = (),
                      n_iterations: int = 1000, seed: int = 0, label: str = "all",
                      confidence: float = 0.95) -> pd.DataFrame:  # fmt: skip
    """Percentile CIs for AUC, EER and TAR@FAR by resampling persons.

    Pairs without a score (NaN similarity) must be removed by the caller.
    Returns one row per metric: ``metric``, ``lo``, ``hi``, ``se`` (standard
    deviation of the bootstrap distribution), ``n_valid`` (iterations in
    which the metric existed).
    """
    metrics = ["auc", "eer"] + [far_key(f) for f in far_levels]
    sp = SortedPairs.build(similarity, genuine, person_a, person_b)
    values = np.full((n_iterations, len(metrics)), np.nan)
    rng = subset_rng(seed, label)
    if sp.n_persons and n_iterations:
        for it in range(n_iterations):
            draws = rng.integers(0, sp.n_persons, size=sp.n_persons)
            counts = np.bincount(draws, minlength=sp.n_persons)
            fpr, tpr = weighted_roc(sp.genuine, sp.weights(counts), sp.group_end)
            if fpr is None:
                continue
            m = roc_metrics(fpr, tpr, far_levels)
            values[it] = [m[k] for k in metrics]
    alpha = (1.0 - confidence) / 2.0
    rows = []
    for j, name in enumerate(metrics):
        v = values[:, j]
        v = v[np.isfinite(v)]
        if len(v):
            lo, hi = np.quantile(v, [alpha, 1 - alpha])
            se = float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")
        else:
            lo = hi = se = float("nan")
        rows.append({"metric": name, "lo": float(lo), "hi": float(hi), "se": se, "n_valid": len(v)})
    return pd.DataFrame(rows)
