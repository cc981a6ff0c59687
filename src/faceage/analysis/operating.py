"""Operating points: FNMR at a fixed FMR and DET curves, with every threshold set on the
operating impostor pool.

Vocabulary: ISO/IEC 19795-1. FMR (false match rate) = share of impostor pairs accepted, FNMR
(false non-match rate) = share of genuine pairs rejected (older papers' TAR = 1 - FNMR, FAR =
FMR; docs/verification.md). ``fnmr_at_fmr_<f>`` always names a figure on the pool; the same
figure on a subset's own ROC impostors is ``roc_fnmr_at_fmr_<f>``.

* **The pool** (``results/<ds>/operating_pairs.parquet``, :func:`faceage.pairs.operating_pairs`):
  every cross-person pair when there are at most ``comparisons.operating_impostors`` of them,
  else a seeded sample of that many with persons balanced. It is apart from the age-matched
  impostors that the per-bin ROC figures (AUC, EER, ``roc_fnmr_at_fmr_<f>``, accuracy) use.
* **Threshold at FMR = f** (:class:`ImpostorThreshold`): the lowest threshold at which the
  share of pool pairs scoring ``>=`` it is at most ``f`` (ties never split, so
  ``fmr_achieved <= f``). Estimated only when the pool holds at least ``10 / f`` pairs.
* **FNMR** of a group of genuine pairs (a gap bin, a year of gap, all): the share scoring below
  that one threshold (NIST FRVT's deployed-threshold convention).
* **Intervals**: subject bootstrap over the persons of the genuine pairs and the pool together
  (a genuine pair weighs ``c[p]``, a pool pair ``c[p] c[q]``), the threshold re-set on the
  resampled pool in each iteration, percentile interval. Seeded by ``(seed, label)``: two
  calls with the same persons and label draw the same persons (paired across models).
* **DET** (:mod:`faceage.analysis.det`): :func:`sklearn.metrics.det_curve` of a group's genuine
  pairs against the whole pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from faceage.analysis.bootstrap import _running_pair_weight, subset_rng
from faceage.analysis.intervals import percentile_interval
from faceage.analysis.roc import estimable, needs
from faceage.bins import bin_index, bin_labels

FMR_LEVELS = (1e-3, 1e-4, 1e-5)
POOL = "operating pool"

FNMR_COLUMNS = [
    "model",
    "fmr",
    "threshold",
    "gap_bin",
    "n_genuine",
    "fnmr",
    "fnmr_lo",
    "fnmr_hi",
    "note",
    "n_impostor",
    "fmr_achieved",
    "n_valid",
    "n_genuine_persons",
    "impostors",
]


def fmr_key(fmr: float) -> str:
    """Column name of FNMR at one FMR level, e.g. ``fnmr_at_fmr_0.001``."""
    return f"fnmr_at_fmr_{fmr:g}"


def draws(rng: np.random.Generator, n_persons: int) -> np.ndarray:
    """One subject-bootstrap draw: how many times each person is drawn."""
    return np.bincount(rng.integers(0, n_persons, size=n_persons), minlength=n_persons)


@njit(cache=True, nogil=True)
def _weight_below(counts, person, positions, out):  # pragma: no cover - compiled
    """``out[q]``: the summed ``counts[person[i]]`` for ``i < positions[q]`` (positions rising)."""
    acc = 0
    i = 0
    for q in range(positions.shape[0]):
        while i < positions[q]:
            acc += counts[person[i]]
            i += 1
        out[q] = acc


@dataclass
class ImpostorThreshold:
    """Impostor scores sorted once; the threshold for a target FMR under any person weights."""

    values: np.ndarray  # distinct impostor scores, descending
    group_end: np.ndarray  # index (in the sorted impostors) of the last impostor of each value
    imp_a: np.ndarray  # person codes of the impostors, sorted by descending score
    imp_b: np.ndarray

    @classmethod
    def build(cls, s_imp, imp_a, imp_b) -> ImpostorThreshold:
        s = np.asarray(s_imp, dtype=np.float64)
        order = np.argsort(-s, kind="stable")
        ss = s[order]
        end = np.flatnonzero(np.r_[ss[1:] != ss[:-1], True]) if len(ss) else np.empty(0, int)
        a = np.ascontiguousarray(np.asarray(imp_a, dtype=np.int64)[order])
        b = np.ascontiguousarray(np.asarray(imp_b, dtype=np.int64)[order])
        return cls(ss[end], end, a, b)

    def thresholds(self, counts: np.ndarray | None, fmrs: np.ndarray):
        """(threshold, achieved FMR) per target: the lowest threshold with FMR <= target.

        A pair is accepted when its score is >= the threshold, so the threshold is just above
        (``numpy.nextafter``) the highest impostor score that must be rejected.
        """
        if counts is None:
            cw = np.arange(1, len(self.imp_a) + 1, dtype=np.float64)
        else:
            run = np.empty(len(self.imp_a) + 1, dtype=np.int64)
            _running_pair_weight(counts.astype(np.int64), self.imp_a, self.imp_b, run)
            cw = run[1:].astype(np.float64)
        total = cw[-1] if len(cw) else 0.0
        if total <= 0:
            return np.full(len(fmrs), np.nan), np.full(len(fmrs), np.nan)
        G = cw[self.group_end]  # weight of impostors scoring >= each distinct value
        j = np.searchsorted(G, fmrs * total * (1 + 1e-12), side="right")  # groups accepted
        inside = j < len(G)
        thr = np.where(
            inside, np.nextafter(self.values[np.minimum(j, len(G) - 1)], np.inf), -np.inf
        )
        achieved = np.where(j > 0, G[np.maximum(j - 1, 0)] / total, 0.0)
        return thr, achieved


def _scored(table: pd.DataFrame) -> pd.DataFrame:
    s = pd.to_numeric(table["similarity"], errors="coerce")
    return table[s.notna().to_numpy()]


def _coded(col: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """(codes, names) of a person column, without a string per pair: a categorical's own
    codes, else :func:`pandas.factorize`."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(), pd.Index(col.cat.categories.astype(str))
    codes, names = pd.factorize(col.astype(str))
    return codes, pd.Index(names.astype(str))


def person_codes_of(*cols: pd.Series) -> tuple[list[np.ndarray], int]:
    """Codes 0..n-1 (sorted names) of the persons of several columns, one list of names."""
    coded = [_coded(col) for col in cols]
    names = pd.Index(sorted(set().union(*(set(n) for _, n in coded))))
    return [names.get_indexer(n)[c].astype(np.int64) for c, n in coded], len(names)


@dataclass
class OperatingScores:
    """One model's genuine pairs and the impostor pairs its thresholds are set on, scored pairs
    only, persons coded together (0..n_persons-1 in sorted name order)."""

    gen_s: np.ndarray
    gen_p: np.ndarray
    gen_gap: np.ndarray
    imp_s: np.ndarray
    imp_a: np.ndarray
    imp_b: np.ndarray
    n_persons: int
    impostors: str

    @classmethod
    def of(cls, pairs: pd.DataFrame, pool: pd.DataFrame | None = None) -> OperatingScores:
        """Genuine pairs of ``pairs`` (a scores table); impostors from ``pool`` (the operating
        pool's scores) or, without one, the impostor pairs of ``pairs`` themselves."""
        gen_rows = pairs[(pd.to_numeric(pairs["genuine"]) == 1).to_numpy()]
        gen = _scored(gen_rows)
        if pool is None:
            imp = _scored(pairs[(pd.to_numeric(pairs["genuine"]) == 0).to_numpy()])
            source = "pairs table"
        else:
            imp = _scored(pool)
            source = POOL
        (gp, ia, ib), n_persons = person_codes_of(gen["person_a"], imp["person_a"], imp["person_b"])
        gap = (
            pd.to_numeric(gen["age_gap"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
            if "age_gap" in gen
            else np.full(len(gp), np.nan)
        )
        return cls(
            gen["similarity"].to_numpy(np.float64),
            gp,
            gap,
            imp["similarity"].to_numpy(np.float64),
            ia,
            ib,
            n_persons,
            source,
        )


def gap_groups(gaps: np.ndarray, edges: Sequence[int] | None) -> list[tuple[str, np.ndarray]]:
    """``all`` and one group per gap bin (left edges, :mod:`faceage.bins`): (label, rows)."""
    out = [("all", np.arange(len(gaps)))]
    if edges is None or not len(edges):
        return out
    codes = bin_index(gaps, list(edges))
    for k, lab in enumerate(bin_labels(list(edges))):
        out.append((lab, np.flatnonzero(codes == k)))
    return out


def year_groups(gaps: np.ndarray, min_pairs: int) -> list[tuple[str, np.ndarray]]:
    """One group per year of gap with at least ``min_pairs`` genuine pairs."""
    ok = np.isfinite(gaps)
    years, n = np.unique(gaps[ok], return_counts=True)
    return [(f"{int(y)}", np.flatnonzero(gaps == y)) for y in years[n >= min_pairs]]


def fnmr_at_fmr(
    scores: OperatingScores,
    groups: Sequence[tuple[str, np.ndarray]],
    fmr_levels: Sequence[float] = FMR_LEVELS,
    n_bootstrap: int = 1000,
    seed: int = 0,
    label: str = "fnmr",
    confidence: float = 0.95,
    model: str = "",
) -> pd.DataFrame:
    """FNMR of each group of genuine pairs at one threshold per FMR level set on the impostors
    of ``scores`` (the pool), with subject-bootstrap intervals (module docstring).

    ``groups``: (label, rows into the genuine pairs). Returns :data:`FNMR_COLUMNS`, one row per
    level (largest first) and group; a level with fewer than ``10 / fmr`` impostor pairs is
    empty with a note that gives the count it rests on.
    """
    fmrs = np.asarray(sorted((float(f) for f in fmr_levels), reverse=True), dtype=np.float64)
    n_imp = len(scores.imp_s)
    ok = np.array([estimable(n_imp, f) for f in fmrs], dtype=bool)
    thr_point = np.full(len(fmrs), np.nan)
    ach_point = np.full(len(fmrs), np.nan)
    boot = np.full((len(groups), len(fmrs), max(n_bootstrap, 0)), np.nan)
    # each group's genuine pairs sorted by score once: FNMR is a running weight at a position
    sorted_groups = []
    for _, rows in groups:
        s = scores.gen_s[rows]
        order = np.argsort(s, kind="stable")
        sorted_groups.append((s[order], scores.gen_p[rows][order].astype(np.int32)))
        del s, order
    if ok.any():
        it_ = ImpostorThreshold.build(scores.imp_s, scores.imp_a, scores.imp_b)
        thr_point[ok], ach_point[ok] = it_.thresholds(None, fmrs[ok])
        if n_bootstrap > 0 and scores.n_persons:
            rng = subset_rng(seed, label)
            n_per = [np.bincount(p, minlength=scores.n_persons) for _, p in sorted_groups]
            below = np.empty(int(ok.sum()), dtype=np.int64)
            for b in range(n_bootstrap):
                counts = draws(rng, scores.n_persons)
                thr, _ = it_.thresholds(counts, fmrs[ok])
                if not np.isfinite(thr).all():
                    continue
                for k, (s, p) in enumerate(sorted_groups):
                    W = float(counts @ n_per[k])
                    if W <= 0:
                        continue
                    pos = np.searchsorted(s, thr, side="left")  # scores < threshold
                    order = np.argsort(pos, kind="stable")
                    _weight_below(counts, p, pos[order], below)
                    boot[k, np.flatnonzero(ok)[order], b] = below / W
    rows = []
    for fi, f in enumerate(fmrs):
        for k, (lab, idx) in enumerate(groups):
            s = sorted_groups[k][0]
            row = {
                "model": model,
                "fmr": f,
                "threshold": thr_point[fi],
                "gap_bin": lab,
                "n_genuine": len(idx),
                "fnmr": np.nan,
                "fnmr_lo": np.nan,
                "fnmr_hi": np.nan,
                "note": "",
                "n_impostor": n_imp,
                "fmr_achieved": ach_point[fi],
                "n_valid": 0,
                "n_genuine_persons": len(np.unique(sorted_groups[k][1])),
                "impostors": scores.impostors,
            }
            if not ok[fi]:
                row["note"] = (
                    f"not estimable: {n_imp} impostor pairs, FMR {f:g} needs >= {needs(f)}"
                )
            elif not len(idx):
                row["note"] = "no genuine pairs"
            else:
                row["fnmr"] = float(np.searchsorted(s, thr_point[fi], side="left") / len(s))
                ci = percentile_interval(boot[k, fi], confidence)
                row["fnmr_lo"], row["fnmr_hi"], row["n_valid"] = ci.lo, ci.hi, ci.n_valid
            rows.append(row)
    return pd.DataFrame(rows, columns=FNMR_COLUMNS)


def fnmr_cells(fnmr: pd.DataFrame, fmr_levels: Sequence[float]) -> pd.DataFrame:
    """The headline cells of a :func:`fnmr_at_fmr` table, one row per gap bin (index): per
    level ``fnmr_at_fmr_<f>`` with ``_lo``, ``_hi``, ``_threshold``, then
    ``n_operating_impostors``."""
    out = pd.DataFrame(index=pd.Index(list(dict.fromkeys(fnmr["gap_bin"])), name="gap_bin"))
    for f in fmr_levels:
        t = fnmr[np.isclose(fnmr["fmr"], float(f))].set_index("gap_bin")
        k = fmr_key(float(f))
        out[k] = t["fnmr"]
        out[k + "_lo"] = t["fnmr_lo"]
        out[k + "_hi"] = t["fnmr_hi"]
        out[k + "_threshold"] = t["threshold"]
    out["n_operating_impostors"] = int(fnmr["n_impostor"].iloc[0]) if len(fnmr) else 0
    return out


def with_operating_points(
    metrics: pd.DataFrame,
    fnmr: pd.DataFrame,
    fmr_levels: Sequence[float],
    roc_impostors: str,
) -> pd.DataFrame:
    """``metrics`` (one model's metrics table) with the operating points of ``fnmr`` (a
    :func:`fnmr_at_fmr` table over ``all`` and the gap bins, at least at every level of
    ``fmr_levels``):

    * ``roc_impostors``: which impostors every row's ROC figures (``auc``, ``eer``,
      ``roc_fnmr_at_fmr_<f>``, accuracy) rest on - the ``all`` row's as well;
    * ``fnmr_at_fmr_<f>`` (+ ``_lo``/``_hi``/``_threshold``) for the overall and gap-bin rows,
      and ``n_operating_impostors``, the pool pairs they rest on.

    One impostor set per column: no column switches set between rows.
    """
    out = metrics.copy()
    out["roc_impostors"] = roc_impostors
    cells = fnmr_cells(fnmr, fmr_levels)
    for col in cells.columns:
        out[col] = np.nan
    bin_rows = out["subset"].isin(["all", "gap_bin"]).to_numpy()
    labels = out.loc[bin_rows, "label"].astype(str)
    out.loc[bin_rows, cells.columns] = cells.reindex(labels).to_numpy()
    out["n_operating_impostors"] = pd.array(out["n_operating_impostors"], dtype="Int64")
    return out
