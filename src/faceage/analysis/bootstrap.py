"""Subject-level bootstrap confidence intervals for verification metrics.

Pairs that share a person are not independent: resampling pairs would give
intervals that are far too narrow. Following Bolle et al.'s "subsets
bootstrap", the unit of resampling is the person: each iteration draws the
subset's persons with replacement (as many draws as there are persons), and
every pair enters the resampled ROC with a weight:

* a genuine pair weighs ``c[p]``, the number of times its person was drawn;
* an impostor pair weighs ``c[p] * c[q]`` for its two persons.

A person drawn twice thus counts twice, a person not drawn drops out with all
its pairs. The metrics (AUC, EER, FNMR at FMR) are then computed from the
weighted ROC, which equals :func:`sklearn.metrics.roc_curve` with
``sample_weight``; sorting happens once, and each iteration costs one
compiled running sum over each class's weights and one compiled walk along
the ROC polygon (see :class:`SortedPairs`), so the whole verification job -
1000 iterations in each of 42 subsets of 7.2 M pairs - takes about 70 s
(``faceage bench scale``, docs/performance.md). The accuracy at a fixed
threshold is read off the same running sums.

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
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from numba import njit

from faceage.analysis.intervals import percentile_interval


def subset_rng(seed: int, label: str) -> np.random.Generator:
    """A generator that depends only on ``seed`` and the subset ``label``."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(label.encode())]))


def roc_key(fmr: float) -> str:
    """Column name of FNMR at FMR ``fmr`` read off a subset's own ROC (its ROC impostors, the
    impostor pairs of the pairs table), e.g. ``roc_fnmr_at_fmr_0.001``. The same figure with
    its threshold set on the operating impostor pool is ``fnmr_at_fmr_<f>``
    (:func:`faceage.analysis.operating.fmr_key`)."""
    return f"roc_fnmr_at_fmr_{fmr:g}"


@njit(cache=True, nogil=True)
def _running_person_weight(counts, person, out):  # pragma: no cover - compiled
    """``out[i + 1]``: the summed ``counts[person[j]]`` of the first ``i + 1`` pairs."""
    acc = 0
    out[0] = 0
    for i in range(person.shape[0]):
        acc += counts[person[i]]
        out[i + 1] = acc


@njit(cache=True, nogil=True)
def _running_pair_weight(counts, a, b, out):  # pragma: no cover - compiled
    """``out[i + 1]``: the summed ``counts[a[j]] * counts[b[j]]`` of the first ``i + 1`` pairs."""
    acc = 0
    out[0] = 0
    for i in range(a.shape[0]):
        acc += counts[a[i]] * counts[b[i]]
        out[i + 1] = acc


@njit(cache=True, nogil=True)
def _point(m, gcum, icum, group_end, imp_above, imp_through):  # pragma: no cover - compiled
    """Point ``m`` (0 .. 2k + 1) of the ROC polygon of :meth:`SortedPairs.roc_of`, as integer
    weights (impostor, genuine): (0, 0), then per genuine score group the point just above it
    and the point through it and its tied impostors, then (all, all)."""
    k = group_end.shape[0]
    if m == 0:
        return 0, 0
    if m == 2 * k + 1:
        return icum[-1], gcum[-1]
    j = (m - 1) // 2
    if (m - 1) % 2 == 0:
        return icum[imp_above[j]], gcum[group_end[j - 1] + 1] if j > 0 else 0
    return icum[imp_through[j]], gcum[group_end[j] + 1]


@njit(cache=True, nogil=True)
def _polygon_metrics(gcum, icum, group_end, imp_above, imp_through, far_levels, out):
    """AUC, EER and tpr (= 1 - FNMR) at each fpr (= FMR) of the ROC polygon of
    :meth:`SortedPairs.roc_of` without
    building it: ``out[0]`` AUC, ``out[1]`` EER, ``out[2 + q]`` tpr at ``far_levels[q]``.

    The AUC is one pass of integer trapezoids over the groups. EER and tpr are binary searches
    along the polygon (fpr, tpr and fpr - (1 - tpr) rise along it) with the rules and float
    operations of :func:`eer_from_roc` and :func:`tar_from_roc`, so they equal them exactly.
    False (``out`` untouched) when a class has no weight.
    """
    total_g, total_i = gcum[-1], icum[-1]
    if total_g <= 0 or total_i <= 0:
        return False
    k = group_end.shape[0]
    num = 0.0  # sum of (F1 - F0) * (G1 + G0): twice the area in weight units
    f_prev, g_prev = 0, 0
    for j in range(k):
        fa = icum[imp_above[j]]
        ft = icum[imp_through[j]]
        gt = gcum[group_end[j] + 1]
        num += float(fa - f_prev) * float(2 * g_prev) + float(ft - fa) * float(g_prev + gt)
        f_prev, g_prev = ft, gt
    num += float(total_i - f_prev) * float(g_prev + total_g)
    out[0] = num / (2.0 * total_i * total_g)
    n_pts = 2 * k + 2
    lo, hi = 0, n_pts  # EER: the first point with FMR - FNMR >= 0
    while lo < hi:
        mid = (lo + hi) // 2
        f, g = _point(mid, gcum, icum, group_end, imp_above, imp_through)
        if f / total_i - (1.0 - g / total_g) >= 0.0:
            hi = mid
        else:
            lo = mid + 1
    if lo >= n_pts:
        out[1] = np.nan
    elif lo == 0:
        out[1] = 0.0
    else:
        f, g = _point(lo - 1, gcum, icum, group_end, imp_above, imp_through)
        f0 = f / total_i
        d0 = f0 - (1.0 - g / total_g)
        f, g = _point(lo, gcum, icum, group_end, imp_above, imp_through)
        f1 = f / total_i
        d1 = f1 - (1.0 - g / total_g)
        w = d0 / (d0 - d1) if d1 != d0 else 0.0
        out[1] = f0 + w * (f1 - f0)
    for q in range(far_levels.shape[0]):  # tpr: the last point with fpr <= the level
        x = far_levels[q] * (1 + 1e-12)
        lo, hi = 0, n_pts - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            f, g = _point(mid, gcum, icum, group_end, imp_above, imp_through)
            if f / total_i <= x:
                lo = mid
            else:
                hi = mid - 1
        f, g = _point(lo, gcum, icum, group_end, imp_above, imp_through)
        out[2 + q] = g / total_g
    return True


def person_codes(person_a, person_b) -> tuple[np.ndarray, np.ndarray, int]:
    """Person codes 0..n-1 in sorted order of the persons the pairs name, for both columns.

    Integer persons (codes of a larger table) keep their order, so a subset's codes are the
    same whether it is given names or the whole table's codes."""
    cat = pd.CategoricalDtype
    if isinstance(getattr(person_a, "dtype", None), cat) and isinstance(
        getattr(person_b, "dtype", None), cat
    ):  # names in one sorted list, then as integers
        a, b = (pd.Series(x).cat.rename_categories(str) for x in (person_a, person_b))
        names = a.cat.categories.union(b.cat.categories)
        person_a, person_b = (x.cat.set_categories(names).cat.codes for x in (a, b))
    a, b = np.asarray(person_a), np.asarray(person_b)
    n = len(a)
    ints = n and np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer)
    if ints and max(a.max(), b.max()) - min(a.min(), b.min()) <= 4 * n:
        lo = min(a.min(), b.min())
        seen = np.zeros(int(max(a.max(), b.max()) - lo) + 1, dtype=bool)
        seen[a - lo] = seen[b - lo] = True
        rank = (np.cumsum(seen, dtype=np.int64) - 1).astype(np.int32)  # sorted, without a sort
        ca, cb = rank[a - lo], rank[b - lo]
        return ca, cb, int(rank[-1]) + 1
    if ints:
        _, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    else:
        both = pd.Series(np.concatenate([a.astype(object), b.astype(object)]))
        codes, _ = pd.factorize(both, sort=True)
    codes = codes.astype(np.int32)
    return codes[:n], codes[n:], int(codes.max()) + 1 if n else 0


class RocFigures(NamedTuple):
    """The figures of one weighted ROC (:meth:`SortedPairs.figures`)."""

    auc: float
    eer: float
    tar: np.ndarray  # tpr (= 1 - FNMR) at each FMR level asked for, in that order


@dataclass
class SortedPairs:
    """Scores prepared once so that each bootstrap iteration's ROC costs O(n_pairs).

    Between two neighbouring genuine scores the ROC runs horizontally
    (impostors only), so the exact ROC is the polygon through, for each
    distinct genuine score (descending), the point just above it (``A``)
    and the point including it and every tied impostor (``B``). Each
    iteration needs the running sum of the pairs' weights in descending
    score order: one compiled pass over the genuine and one over the
    impostor pairs' person codes (numba), with integer weights, so the
    sums are exact.
    """

    gen_person: np.ndarray  # person code of each genuine pair, sorted by descending score
    gen_group_end: np.ndarray  # last index (in gen_person) of each run of tied genuine scores
    imp_above: np.ndarray  # per genuine score group: impostors with a higher score
    imp_through: np.ndarray  # per genuine score group: impostors with a higher or equal score
    imp_a: np.ndarray  # person codes of each impostor pair, sorted by descending score
    imp_b: np.ndarray
    n_persons: int
    # the running sums' buffers, made by the first running_weights call and reused
    _gcum: np.ndarray | None = field(default=None, init=False, repr=False)
    _icum: np.ndarray | None = field(default=None, init=False, repr=False)

    @classmethod
    def build(cls, similarity, genuine, person_a, person_b) -> SortedPairs:
        s = np.asarray(similarity, dtype=np.float64)
        g = np.asarray(genuine).astype(bool)
        pa, pb, n_persons = person_codes(person_a, person_b)
        gs = s[g]
        gorder = np.argsort(-gs, kind="stable")
        gs_sorted = gs[gorder]
        gen_person = pa[g][gorder]
        if len(gs_sorted):
            gen_group_end = np.flatnonzero(np.r_[gs_sorted[1:] != gs_sorted[:-1], True])
        else:
            gen_group_end = np.empty(0, dtype=np.intp)
        group_score = gs_sorted[gen_group_end]
        is_ = s[~g]
        iorder = np.argsort(-is_, kind="stable")
        imp_asc = is_[iorder[::-1]]
        n_imp = len(imp_asc)
        imp_above = n_imp - np.searchsorted(imp_asc, group_score, side="right")
        imp_through = n_imp - np.searchsorted(imp_asc, group_score, side="left")
        return cls(
            gen_person,
            gen_group_end,
            imp_above,
            imp_through,
            pa[~g][iorder],
            pb[~g][iorder],
            n_persons,
        )

    def running_weights(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gcum, icum): the genuine and impostor weights of the ``i`` highest-scoring pairs of
        each class at index ``i``, for per-person draw ``counts`` (the arrays are reused by the
        next call)."""
        counts = np.ascontiguousarray(counts, dtype=np.int64)
        if self._gcum is None:
            self._gcum = np.empty(len(self.gen_person) + 1, dtype=np.int64)
            self._icum = np.empty(len(self.imp_a) + 1, dtype=np.int64)
        _running_person_weight(counts, self.gen_person, self._gcum)
        _running_pair_weight(counts, self.imp_a, self.imp_b, self._icum)
        return self._gcum, self._icum

    def roc(self, counts: np.ndarray):
        """Exact weighted ROC (fpr, tpr from (0, 0) to (1, 1)) for per-person draw ``counts``.

        A genuine pair weighs its person's count, an impostor pair the product
        of its two persons' counts. Returns (None, None) when a class has no weight.
        """
        return self.roc_of(*self.running_weights(counts))

    def metrics_of(
        self, gcum: np.ndarray, icum: np.ndarray, far_levels: np.ndarray, out: np.ndarray
    ) -> bool:
        """AUC, EER, tpr at ``far_levels`` of :meth:`roc_of`'s ROC into ``out`` (in that
        order), computed on its points in one compiled pass; False when a class has no weight.
        Equals :func:`roc_metrics` of that ROC (the AUC to rounding: one running sum)."""
        return _polygon_metrics(
            gcum, icum, self.gen_group_end, self.imp_above, self.imp_through, far_levels, out
        )

    def figures(self, counts: np.ndarray, far_levels: np.ndarray) -> RocFigures | None:
        """AUC, EER and tpr (= 1 - FNMR) at ``far_levels`` for per-person draw ``counts``
        (:meth:`metrics_of`
        as a record); None when a class has no weight."""
        out = np.empty(2 + len(far_levels))
        if not self.metrics_of(*self.running_weights(counts), far_levels, out):
            return None
        return RocFigures(out[0], out[1], out[2:])

    def roc_of(self, gcum: np.ndarray, icum: np.ndarray):
        """The ROC of :meth:`roc` from the running weights of :meth:`running_weights`."""
        total_i, total_g = icum[-1], gcum[-1]
        if total_i <= 0 or total_g <= 0:
            return None, None
        tp_through = gcum[self.gen_group_end + 1]
        tp_above = np.r_[0, tp_through[:-1]]
        k = len(self.gen_group_end)
        fp = np.empty(2 * k + 2, dtype=np.float64)
        tp = np.empty(2 * k + 2, dtype=np.float64)
        fp[0] = tp[0] = 0.0
        fp[1:-1:2], fp[2:-1:2] = icum[self.imp_above], icum[self.imp_through]
        tp[1:-1:2], tp[2:-1:2] = tp_above, tp_through
        fp[-1], tp[-1] = total_i, total_g
        return fp / total_i, tp / total_g


def auc_from_roc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under the ROC by the trapezoid rule (ties count one half)."""
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) * 0.5))


def eer_from_roc(fpr: np.ndarray, tpr: np.ndarray, thresholds: np.ndarray | None = None):
    """Equal error rate: where FMR (= fpr) meets FNMR (= 1 - tpr).

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
    """Highest tpr (= 1 - FNMR) among ROC points with fpr (= FMR) <= ``far`` (no
    interpolation), and its index."""
    i = int(np.searchsorted(fpr, far * (1 + 1e-12), side="right")) - 1
    return float(tpr[i]), i


def roc_metrics(fpr: np.ndarray, tpr: np.ndarray, far_levels: Sequence[float]) -> dict[str, float]:
    out = {"auc": auc_from_roc(fpr, tpr), "eer": eer_from_roc(fpr, tpr)[0]}
    for far in far_levels:  # the ROC's own terms: tpr = 1 - FNMR at fpr = FMR
        out[f"tpr_at_fpr_{far:g}"] = tar_from_roc(fpr, tpr, far)[0]
    return out


def subject_bootstrap(
    similarity,
    genuine,
    person_a,
    person_b,
    fmr_levels: Sequence[float] = (),
    n_iterations: int = 1000,
    seed: int = 0,
    label: str = "all",
    confidence: float = 0.95,
    accuracy_at: float | None = None,
) -> pd.DataFrame:
    """Percentile CIs for AUC, EER and FNMR at each FMR of ``fmr_levels`` (``roc_key``) by
    resampling persons.

    With ``accuracy_at`` (a cosine threshold), also ``acc``: the accuracy of
    calling a pair "same" when its similarity is above that threshold, with
    the same weights (a bounded interval, inside [0, 1]).

    Pairs without a score (NaN similarity) must be removed by the caller.
    Returns one row per metric: ``metric``, ``lo``, ``hi``, ``se`` (standard
    deviation of the bootstrap distribution), ``n_valid`` (iterations in
    which the metric existed).
    """
    metrics = ["auc", "eer"] + [roc_key(f) for f in fmr_levels]
    sp = SortedPairs.build(similarity, genuine, person_a, person_b)
    with_acc = accuracy_at is not None and np.isfinite(accuracy_at)
    if with_acc:
        # "same" above the threshold: the genuine pairs called right are the highest-scoring
        # ones, the impostors called right the lowest, so both are read off the running sums
        metrics.append("acc")
        s = np.asarray(similarity, dtype=np.float64)
        g = np.asarray(genuine).astype(bool)
        gen_right = int(np.count_nonzero(s[g] > accuracy_at))
        imp_wrong = int(np.count_nonzero(s[~g] > accuracy_at))
    values = np.full((n_iterations, len(metrics)), np.nan)
    fars = np.asarray(fmr_levels, dtype=np.float64)
    n_roc = 2 + len(fars)
    rng = subset_rng(seed, label)
    if sp.n_persons and n_iterations:
        for it in range(n_iterations):
            draws = rng.integers(0, sp.n_persons, size=sp.n_persons)
            counts = np.bincount(draws, minlength=sp.n_persons)
            gcum, icum = sp.running_weights(counts)
            if not sp.metrics_of(gcum, icum, fars, values[it]):
                continue
            if with_acc:
                right = gcum[gen_right] + (icum[-1] - icum[imp_wrong])
                values[it, n_roc] = right / (gcum[-1] + icum[-1])
    values[:, 2:n_roc] = 1 - values[:, 2:n_roc]  # FNMR = 1 - TAR at the same FMR
    rows = [
        {"metric": name, **percentile_interval(values[:, j], confidence)._asdict()}
        for j, name in enumerate(metrics)
    ]
    return pd.DataFrame(rows)
