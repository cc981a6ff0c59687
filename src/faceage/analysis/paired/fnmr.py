"""FNMR per gap bin (or year of gap) at a deployed threshold, the NIST FRVT convention
(:func:`deployed_fnmr`).

Conventions: :mod:`faceage.analysis.paired`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faceage.analysis.bootstrap import (
    person_codes,
    subset_rng,
)
from faceage.analysis.paired.common import (
    CommonPairs,
    _draws,
    _estimable,
    _needs,
    common_pairs,
)
from faceage.analysis.verification import (
    assign_gap_bins,
)

FMR_LEVELS = (1e-3, 1e-4, 1e-5)

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
]


@dataclass
class _ImpostorThreshold:
    """Impostor scores sorted once; the threshold for a target FMR under any person weights."""

    values: np.ndarray  # distinct impostor scores, descending
    group_end: np.ndarray  # index (in the sorted impostors) of the last impostor of each value
    imp_a: np.ndarray  # person codes of the impostors, sorted by descending score
    imp_b: np.ndarray

    @classmethod
    def build(cls, s_imp, imp_a, imp_b) -> _ImpostorThreshold:
        s = np.asarray(s_imp, dtype=np.float64)
        order = np.argsort(-s, kind="stable")
        ss = s[order]
        end = np.flatnonzero(np.r_[ss[1:] != ss[:-1], True]) if len(ss) else np.empty(0, int)
        return cls(ss[end], end, np.asarray(imp_a)[order], np.asarray(imp_b)[order])

    def thresholds(self, counts: np.ndarray | None, fmrs: np.ndarray):
        """(threshold, achieved FMR) per target: the lowest threshold with FMR <= target.

        A pair is accepted when its score is >= the threshold, so the threshold is just above
        (``numpy.nextafter``) the highest impostor score that must be rejected.
        """
        if counts is None:
            w = np.ones(len(self.imp_a), dtype=np.float64)
        else:
            w = (counts[self.imp_a] * counts[self.imp_b]).astype(np.float64)
        cw = np.cumsum(w)
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


def deployed_fnmr(
    scores: Mapping[str, pd.DataFrame] | CommonPairs,
    gap_edges: Sequence[int] | None,
    fmr_levels: Sequence[float] = FMR_LEVELS,
    n_bootstrap: int = 1000,
    seed: int = 0,
    label: str = "fnmr",
    confidence: float = 0.95,
    common: bool = True,
    by_year: bool = False,
    min_year_pairs: int = 100,
) -> pd.DataFrame:
    """FNMR per gap bin at a deployed threshold (NIST FRVT convention), with bootstrap intervals.

    ``by_year``: per year of gap instead of per bin (``gap_edges`` unused): ``gap_bin`` is the
    gap in years, for the gaps with at least ``min_year_pairs`` genuine pairs (fewer would give
    an interval as wide as the scale; those years are left out).

    Per model and target FMR, **one** threshold is set on all impostor pairs (of every gap): the
    lowest threshold at which the share of impostor pairs scoring ``>=`` it is at most the
    target (so ``fmr_achieved <= fmr``; ties are never split). FNMR of a gap bin is then the share
    of its genuine pairs scoring below that threshold; gap bin ``all`` is every genuine pair (it
    equals 1 - TAR at FAR = fmr of the ROC). A target is estimated only when there are at least
    ``10 / fmr`` impostor pairs; otherwise its rows are empty with a note.

    Intervals: subject bootstrap (same person weights as :mod:`faceage.analysis.bootstrap`), with
    the threshold **re-set in each iteration** on the resampled impostor pairs. The threshold is
    itself estimated from these persons' impostor scores, so its uncertainty belongs in the
    interval of "FNMR at FMR = f"; a fixed threshold would give the narrower interval of "FNMR at
    this cosine value", which understates the uncertainty at small FMR, where the threshold sits
    in the sparse tail of few persons' impostor scores. The ``threshold`` column is the point
    estimate. With ``common`` (default) every model is measured on the common pairs
    (:func:`common_pairs`), and the draws, seeded by ``(seed, label)``, are the same for every
    model; else on its own scored pairs. Failures to enrol are not counted as non-matches here
    (see :func:`failure_to_enrol`).

    Returns :data:`FNMR_COLUMNS`: model, fmr, threshold, gap_bin, n_genuine, fnmr, fnmr_lo,
    fnmr_hi, note, n_impostor, fmr_achieved, n_valid.
    """
    if isinstance(scores, CommonPairs):
        frames = {m: scores.scores(m) for m in scores.models}
    elif common:
        cp = common_pairs(scores)
        frames = {m: cp.scores(m) for m in cp.models}
    else:
        frames = {
            m: df[pd.to_numeric(df["similarity"], errors="coerce").notna()].reset_index(drop=True)
            for m, df in scores.items()
        }
    fmrs = np.asarray(sorted((float(f) for f in fmr_levels), reverse=True), dtype=np.float64)
    edges = list(gap_edges) if gap_edges is not None and len(gap_edges) else None
    rows = []
    alpha = (1.0 - confidence) / 2.0
    for model, df in frames.items():
        s = pd.to_numeric(df["similarity"], errors="coerce").to_numpy(dtype=np.float64)
        g = df["genuine"].to_numpy(dtype=int) == 1
        pa, pb, n_persons = person_codes(df["person_a"], df["person_b"])
        pa, pb = pa.astype(np.int64), pb.astype(np.int64)
        n_imp = int((~g).sum())
        groups = [("all", np.flatnonzero(g))]
        if by_year:
            gap = pd.to_numeric(df["age_gap"], errors="coerce").to_numpy(dtype=np.float64)
            years, n_year = np.unique(gap[g & np.isfinite(gap)], return_counts=True)
            for year in years[n_year >= min_year_pairs]:
                groups.append((f"{int(year)}", np.flatnonzero(g & (gap == year))))
        elif edges is not None:
            bins = assign_gap_bins(df["age_gap"], edges)
            for lab in bins.cat.categories:
                groups.append((str(lab), np.flatnonzero(g & (bins == lab).to_numpy())))
        ok = np.array([_estimable(n_imp, f) for f in fmrs], dtype=bool)
        thr_point = np.full(len(fmrs), np.nan)
        ach_point = np.full(len(fmrs), np.nan)
        boot = np.full((len(groups), len(fmrs), max(n_bootstrap, 0)), np.nan)
        if ok.any():
            it_ = _ImpostorThreshold.build(s[~g], pa[~g], pb[~g])
            thr_point[ok], ach_point[ok] = it_.thresholds(None, fmrs[ok])
            if n_bootstrap > 0:
                rng = subset_rng(seed, label)
                gs = [(s[idx], pa[idx]) for _, idx in groups]
                for b in range(n_bootstrap):
                    counts = _draws(rng, n_persons)
                    thr, _ = it_.thresholds(counts, fmrs[ok])
                    for k, (sg, gp) in enumerate(gs):
                        w = counts[gp].astype(np.float64)
                        W = w.sum()
                        if W > 0 and np.isfinite(thr).all():
                            boot[k, ok, b] = (w @ (sg[:, None] < thr[None, :])) / W
        for fi, f in enumerate(fmrs):
            for k, (lab, idx) in enumerate(groups):
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
                }
                if not ok[fi]:
                    row["note"] = (
                        f"not estimable: {n_imp} impostor pairs, FMR {f:g} needs >= {_needs(f)}"
                    )
                elif not len(idx):
                    row["note"] = "no genuine pairs"
                else:
                    row["fnmr"] = float(np.mean(s[idx] < thr_point[fi]))
                    v = boot[k, fi]
                    v = v[np.isfinite(v)]
                    if len(v):
                        row["fnmr_lo"], row["fnmr_hi"] = (
                            float(q) for q in np.quantile(v, [alpha, 1 - alpha])
                        )
                    row["n_valid"] = len(v)
                rows.append(row)
    return pd.DataFrame(rows, columns=FNMR_COLUMNS)
