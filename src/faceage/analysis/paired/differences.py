"""Paired subject bootstrap: per-model figures and A - B differences on the common pairs
(:func:`paired_comparison`), with decidability d'.

Conventions: :mod:`faceage.analysis.paired`."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faceage.analysis.bootstrap import (
    SortedPairs,
    far_key,
    person_codes,
    subset_rng,
)
from faceage.analysis.operating import draws as _draws
from faceage.analysis.operating import estimable as _estimable
from faceage.analysis.operating import needs as _needs
from faceage.analysis.operating import person_codes_of
from faceage.analysis.paired.common import CommonPairs, common_pairs
from faceage.analysis.paired.pool_tar import PoolTar
from faceage.analysis.paired.stats import (
    _Centred,
    _interval,
    _weighted_dprime,
    bootstrap_p_value,
    p_reported,
    p_text,
)
from faceage.analysis.roc import FAR_LEVELS
from faceage.analysis.verification import subset_rows

PER_MODEL_COLUMNS = [
    "model",
    "subset",
    "label",
    "metric",
    "far",
    "estimate",
    "lo",
    "hi",
    "se",
    "n_valid",
    "n_persons",
    "n_genuine",
    "n_impostor",
    "note",
]

DIFFERENCE_COLUMNS = [
    "model_a",
    "model_b",
    "subset",
    "label",
    "metric",
    "far",
    "estimate",
    "lo",
    "hi",
    "se",
    "p_value",
    "p_text",
    "n_valid",
    "note",
]


@dataclass
class PairedComparison:
    """Result of :func:`paired_comparison`.

    ``per_model``: one row per model, subset, metric (:data:`PER_MODEL_COLUMNS`): point
    ``estimate`` on the common pairs, bootstrap ``lo``/``hi``/``se``/``n_valid``, counts,
    ``far`` (TAR rows), ``note``. ``differences``: one row per model pair (A, B) in the order
    the models were given, subset, metric (:data:`DIFFERENCE_COLUMNS`): ``estimate`` = A - B,
    paired interval, ``p_value``. ``common``: :attr:`CommonPairs.summary`.
    """

    per_model: pd.DataFrame
    differences: pd.DataFrame
    common: pd.DataFrame


@dataclass
class _Subset:
    kind: str
    label: str
    n_genuine: int
    n_impostor: int
    n_persons: int
    far: float | None
    note: str
    present: np.ndarray | None = None  # sorted global person codes (SortedPairs' local order)
    sps: list | None = None  # one SortedPairs per model
    gen_p: np.ndarray | None = None
    imp_a: np.ndarray | None = None
    imp_b: np.ndarray | None = None
    s_gen: _Centred | None = None
    s_imp: _Centred | None = None


def _subsets(
    pairs: pd.DataFrame,
    sim: np.ndarray,
    pa: np.ndarray,
    pb: np.ndarray,
    gap_edges,
    impostors: str,
    far_levels: Sequence[float],
) -> list[_Subset]:
    """The ``all`` and ``gap_bin`` subsets of :func:`subset_rows`, prepared for the bootstrap."""
    frame = pd.DataFrame(
        {
            "genuine": pairs["genuine"].to_numpy(dtype=int),
            "age_gap": pairs["age_gap"].to_numpy() if "age_gap" in pairs else np.nan,
        }
    )  # no age ranges: subset_rows then yields only "all" and the gap bins
    edges = list(gap_edges) if gap_edges is not None and len(gap_edges) else None
    items = [("all", "all", {}, None)] if edges is None else subset_rows(frame, edges, impostors)
    everything = np.arange(len(pairs))
    out = []
    for kind, label, _extra, sub_rows in items:
        rows = everything if sub_rows is None else sub_rows
        g = frame["genuine"].to_numpy()[rows] == 1
        n_gen, n_imp = int(g.sum()), int((~g).sum())
        est = [f for f in far_levels if _estimable(n_imp, f)]
        far = max(est) if est else None
        notes = []
        if far_levels and far is None:
            f = max(far_levels)
            notes.append(
                f"{far_key(f)} not estimable ({n_imp} impostor pairs, needs >= {_needs(f)})"
            )
        if n_gen == 0 or n_imp == 0:
            notes.insert(0, "no genuine pairs" if n_gen == 0 else "no impostor pairs")
        sa, sb = pa[rows], pb[rows]
        present = np.unique(np.r_[sa, sb])
        s = _Subset(kind, label, n_gen, n_imp, len(present), far, "; ".join(notes))
        if n_gen and n_imp:
            s.present = present
            s.sps = [SortedPairs.build(sim[rows, m], g, sa, sb) for m in range(sim.shape[1])]
            if s.sps[0].n_persons != len(present):  # SortedPairs codes persons in sorted order
                raise AssertionError("person coding of SortedPairs changed")
            s.gen_p, s.imp_a, s.imp_b = sa[g], sa[~g], sb[~g]
            s.s_gen = _Centred.of(sim[rows][g])
            s.s_imp = _Centred.of(sim[rows][~g])
        out.append(s)
    return out


def paired_comparison(
    scores: Mapping[str, pd.DataFrame] | CommonPairs,
    gap_edges: Sequence[int] | None,
    far_levels: Sequence[float] = FAR_LEVELS,
    impostors: str = "same_gap_bin",
    n_bootstrap: int = 1000,
    seed: int = 0,
    label: str = "paired",
    confidence: float = 0.95,
    paired: bool = True,
    slope: bool = True,
    pool: CommonPairs | None = None,
) -> PairedComparison:
    """AUC, TAR at the largest estimable FAR, d' (overall and per gap bin), age robustness and
    the OLS ageing slope of every model on the common pairs, with paired differences.

    ``scores``: {model: scores table} (or a :class:`CommonPairs`); ``gap_edges``: left edges of
    the gap bins (``None`` or empty: overall only, no age robustness). See the module docstring
    for the conventions. ``pool``: the operating impostor pool's scores on the pool pairs every
    model scored; the overall (``all``) TAR at FAR is then set on it (:mod:`.pool_tar`) and its
    rows count the pool's pairs. Returns a :class:`PairedComparison`.
    """
    cp = scores if isinstance(scores, CommonPairs) else common_pairs(scores)
    models = cp.models
    pairs = cp.pairs
    sim = cp.similarity.to_numpy(dtype=np.float64)
    far_levels = sorted(float(f) for f in far_levels)
    pool_tar = None
    if pool is None:
        pa, pb, n_persons = person_codes(pairs["person_a"], pairs["person_b"])
        pa, pb = pa.astype(np.int64), pb.astype(np.int64)
    else:
        cols = (
            pairs["person_a"],
            pairs["person_b"],
            pool.pairs["person_a"],
            pool.pairs["person_b"],
        )
        (pa, pb, qa, qb), n_persons = person_codes_of(*cols)
    subsets = _subsets(pairs, sim, pa, pb, gap_edges, impostors, far_levels)
    if pool is not None:
        g = pairs["genuine"].to_numpy(dtype=int) == 1
        pool_sim = pool.similarity[models].to_numpy(dtype=np.float64)
        pool_tar = PoolTar.build(sim[g], pa[g], pool_sim, qa, qb, n_persons)
        est = [f for f in far_levels if _estimable(pool_tar.n_pool, f)]
        subsets[0].far = max(est) if est else None
        f = max(far_levels) if far_levels else None
        subsets[0].note = (
            f"{far_key(f)} not estimable ({pool_tar.n_pool} operating-pool pairs, needs >= "
            f"{_needs(f)})"
            if f is not None and not est
            else f"TAR on the operating pool ({pool_tar.n_pool} impostor pairs)"
        )
    n_models = len(models)

    # keys: (subset kind, label, metric, far, subset index or None)
    keys: list[tuple] = []
    for si, s in enumerate(subsets):
        tar_far = s.far if s.far is not None else (max(far_levels) if far_levels else None)
        keys.append((s.kind, s.label, "auc", np.nan, si))
        if tar_far is not None:
            keys.append((s.kind, s.label, far_key(tar_far), s.far if s.far else np.nan, si))
        keys.append((s.kind, s.label, "dprime", np.nan, si))
    key_index = {(k[0], k[1], k[2]): i for i, k in enumerate(keys)}

    # slope: genuine pairs with a known gap
    gap = (
        pd.to_numeric(pairs["age_gap"], errors="coerce").to_numpy(dtype=np.float64)
        if "age_gap" in pairs
        else np.full(len(pairs), np.nan)
    )
    gmask = (pairs["genuine"].to_numpy(dtype=int) == 1) & np.isfinite(gap)
    slope_note = ""
    if slope:
        if gmask.sum() < 3 or len(np.unique(gap[gmask])) < 2:
            slope_note = "too few genuine pairs or gaps"
        keys.append(("all", "all", "ols_slope_per_year", np.nan, None))
        key_index[("all", "all", "ols_slope_per_year")] = len(keys) - 1
        x = gap[gmask] - (gap[gmask].mean() if gmask.any() else 0.0)
        xp = pa[gmask]
        Y = sim[gmask]
        Y = Y - (Y.mean(axis=0) if len(Y) else 0.0)

    roc_buf = np.empty(3)

    def evaluate(counts_by_group, out: np.ndarray) -> None:
        """Fill out[model, key] for one iteration. counts_by_group: [(model idxs, counts)]."""
        for ms, counts in counts_by_group:
            for s in subsets:
                kt = key_index.get((s.kind, s.label, far_key(s.far))) if s.far else None
                on_pool = kt is not None and pool_tar is not None and s.kind == "all"
                if on_pool:  # the overall TAR: threshold on the pool, not on the ROC
                    for m in ms:
                        out[m, kt] = pool_tar.tar(m, counts, s.far)
                    kt = None
                if s.sps is None:
                    continue
                lc = counts[s.present]
                ka = key_index[(s.kind, s.label, "auc")]
                fars = np.array([s.far] if kt is not None else [], dtype=np.float64)
                for m in ms:
                    sp = s.sps[m]
                    if not sp.metrics_of(*sp.running_weights(lc), fars, roc_buf):
                        continue
                    out[m, ka] = roc_buf[0]  # AUC, then EER, then TAR at s.far
                    if kt is not None:
                        out[m, kt] = roc_buf[2]
                wg = counts[s.gen_p].astype(np.float64)
                wi = (counts[s.imp_a] * counts[s.imp_b]).astype(np.float64)
                d = _weighted_dprime(s.s_gen, wg, s.s_imp, wi)
                out[ms, key_index[(s.kind, s.label, "dprime")]] = d[ms]
            if slope and not slope_note:
                w = counts[xp].astype(np.float64)
                W, Sx, Sxx = w.sum(), w @ x, w @ x**2
                den = W * Sxx - Sx**2
                if W > 0 and den > 1e-12 * max(W * Sxx, 1e-300):
                    b = (W * ((w * x) @ Y) - Sx * (w @ Y)) / den
                    out[ms, key_index[("all", "all", "ols_slope_per_year")]] = b[ms]

    n_keys = len(keys)
    point = np.full((n_models, n_keys), np.nan)
    evaluate([(list(range(n_models)), np.ones(n_persons, dtype=np.int64))], point)
    values = np.full((n_models, n_keys, max(n_bootstrap, 0)), np.nan)
    if n_persons and n_bootstrap > 0:
        if paired:
            rngs = [subset_rng(seed, label)]
            groups = [list(range(n_models))]
        else:
            rngs = [subset_rng(seed, f"{label}:{m}") for m in models]
            groups = [[j] for j in range(n_models)]
        buf = np.full((n_models, n_keys), np.nan)
        for it in range(n_bootstrap):
            buf[:] = np.nan
            evaluate([(ms, _draws(r, n_persons)) for ms, r in zip(groups, rngs, strict=True)], buf)
            values[:, :, it] = buf

    # age robustness: AUC of the smallest minus the largest gap bin with an AUC
    bins = [s for s in subsets if s.kind == "gap_bin" and s.sps is not None]
    if len(bins) >= 2:
        first, last = bins[0], bins[-1]
        ia = key_index[(first.kind, first.label, "auc")]
        ib = key_index[(last.kind, last.label, "auc")]
        keys.append(("robustness", f"{first.label} minus {last.label}", "auc_drop", np.nan, None))
        point = np.concatenate([point, (point[:, ia] - point[:, ib])[:, None]], axis=1)
        values = np.concatenate([values, (values[:, ia] - values[:, ib])[:, None]], axis=1)

    by_index = {i: subsets[k[4]] if k[4] is not None else None for i, k in enumerate(keys)}
    all_subset = subsets[0]

    def counts_of(i):
        s = by_index[i]
        if keys[i][2] == "ols_slope_per_year":
            return all_subset.n_persons, int(gmask.sum()), 0
        if s is None:  # robustness: the two bins together
            return (
                len(np.union1d(bins[0].present, bins[-1].present)),
                bins[0].n_genuine + bins[-1].n_genuine,
                bins[0].n_impostor + bins[-1].n_impostor,
            )
        if pool_tar is not None and s.kind == "all" and keys[i][2].startswith("tar_far_"):
            return s.n_persons, s.n_genuine, pool_tar.n_pool
        return s.n_persons, s.n_genuine, s.n_impostor

    def note_of(i):
        k, s = keys[i], by_index[i]
        if k[2] == "ols_slope_per_year":
            return "; ".join(x for x in ("OLS slope, not the mixed model", slope_note) if x)
        if s is None:
            return "AUC of the smallest gap bin minus AUC of the largest gap bin"
        if k[2].startswith("tar_far_") or s.sps is None:
            return s.note
        return ""

    rows = []
    for j, m in enumerate(models):
        for i, k in enumerate(keys):
            est = point[j, i]
            lo, hi, se, nv = (
                _interval(values[j, i], confidence)
                if np.isfinite(est)
                else (np.nan, np.nan, np.nan, 0)
            )
            npers, ng, ni = counts_of(i)
            rows.append(
                {
                    "model": m,
                    "subset": k[0],
                    "label": k[1],
                    "metric": k[2],
                    "far": k[3],
                    "estimate": est,
                    "lo": lo,
                    "hi": hi,
                    "se": se,
                    "n_valid": nv,
                    "n_persons": npers,
                    "n_genuine": ng,
                    "n_impostor": ni,
                    "note": note_of(i),
                }
            )
    diff_rows = []
    for a, b in itertools.combinations(range(n_models), 2):
        for i, k in enumerate(keys):
            est = point[a, i] - point[b, i]
            d = values[a, i] - values[b, i]
            if np.isfinite(est):
                lo, hi, se, nv = _interval(d, confidence)
                p = bootstrap_p_value(d)
                p, text = p_reported(p, nv), p_text(p, nv)
            else:
                text = ""
                lo = hi = se = p = np.nan
                nv = 0
            diff_rows.append(
                {
                    "model_a": models[a],
                    "model_b": models[b],
                    "subset": k[0],
                    "label": k[1],
                    "metric": k[2],
                    "far": k[3],
                    "estimate": est,
                    "lo": lo,
                    "hi": hi,
                    "se": se,
                    "p_value": p,
                    "p_text": text,
                    "n_valid": nv,
                    "note": "; ".join(
                        x for x in (note_of(i), "" if paired else "unpaired draws") if x
                    ),
                }
            )
    return PairedComparison(
        per_model=pd.DataFrame(rows, columns=PER_MODEL_COLUMNS),
        differences=pd.DataFrame(diff_rows, columns=DIFFERENCE_COLUMNS),
        common=cp.summary,
    )
