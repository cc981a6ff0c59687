"""Paired subject bootstrap: per-model figures and A - B differences on the common pairs
(:func:`paired_comparison`), with decidability d'.

Conventions: :mod:`faceage.analysis.paired`."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faceage.analysis.bootstrap import SortedPairs, person_codes, roc_key, subset_rng
from faceage.analysis.intervals import NO_INTERVAL, percentile_interval
from faceage.analysis.operating import draws, fmr_key, person_codes_of
from faceage.analysis.paired.common import CommonPairs, common_pairs
from faceage.analysis.paired.pool_tar import PoolTar
from faceage.analysis.paired.stats import (
    OlsSlope,
    _Centred,
    _weighted_dprime,
    bootstrap_p_value,
    p_reported,
    p_text,
)
from faceage.analysis.roc import FAR_LEVELS, estimable, needs
from faceage.analysis.verification import subset_rows

PER_MODEL_COLUMNS = [
    "model",
    "subset",
    "label",
    "metric",
    "fmr",
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
    "fmr",
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
    ``fmr`` (FNMR rows), ``note``. ``differences``: one row per model pair (A, B) in the order
    the models were given, subset, metric (:data:`DIFFERENCE_COLUMNS`): ``estimate`` = A - B,
    paired interval, ``p_value``. ``common``: :attr:`CommonPairs.summary`.
    """

    per_model: pd.DataFrame
    differences: pd.DataFrame
    common: pd.DataFrame


@dataclass
class Figure:
    """One figure of every model: a row of ``per_model`` per model, of ``differences`` per
    model pair. ``level``: the FMR an ``fnmr`` figure is named after (the column ``metric``
    reads ``roc_fnmr_at_fmr_<level>``, or ``fnmr_at_fmr_<level>`` when set on the operating
    pool, only at the output); ``fmr``: that level when it is estimable."""

    subset: str
    label: str
    metric: str  # auc, fnmr, dprime, ols_slope_per_year, auc_drop
    n_persons: int
    n_genuine: int
    n_impostor: int
    note: str = ""
    level: float | None = None
    fmr: float = np.nan
    on_pool: bool = False

    @property
    def metric_name(self) -> str:
        if self.metric != "fnmr":
            return self.metric
        return fmr_key(self.level) if self.on_pool else roc_key(self.level)


@dataclass
class _Subset:
    kind: str
    label: str
    n_genuine: int
    n_impostor: int
    n_persons: int
    far: float | None  # the largest estimable FMR level, if any
    note: str
    present: np.ndarray | None = None  # sorted global person codes (SortedPairs' local order)
    sps: list | None = None  # one SortedPairs per model
    gen_p: np.ndarray | None = None
    imp_a: np.ndarray | None = None
    imp_b: np.ndarray | None = None
    s_gen: _Centred | None = None
    s_imp: _Centred | None = None
    # the subset's columns among the figures
    auc: int = -1
    dprime: int = -1
    tar: int | None = None  # only when ``far`` is estimable
    tar_on_pool: bool = False


def _not_estimable(far_levels, n: int, what: str, key=roc_key) -> str:
    f = max(far_levels)
    return f"{key(f)} not estimable ({n} {what}, needs >= {needs(f)})"


def _largest_estimable(far_levels, n_impostor: int) -> float | None:
    est = [f for f in far_levels if estimable(n_impostor, f)]
    return max(est) if est else None


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
        far = _largest_estimable(far_levels, n_imp)
        notes = []
        if far_levels and far is None:
            notes.append(_not_estimable(far_levels, n_imp, "impostor pairs"))
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


def _figures(subsets: list[_Subset], far_levels, pool_tar: PoolTar | None) -> list[Figure]:
    """Per subset: AUC, FNMR (at its FMR, or named after the largest level when none is
    estimable) and d'; each subset learns its columns."""
    figures: list[Figure] = []

    def add(fig: Figure) -> int:
        figures.append(fig)
        return len(figures) - 1

    for s in subsets:
        counts = (s.n_persons, s.n_genuine, s.n_impostor)
        note = "" if s.sps is not None else s.note
        s.auc = add(Figure(s.kind, s.label, "auc", *counts, note))
        level = s.far if s.far is not None else (max(far_levels) if far_levels else None)
        if level is not None:
            s.tar_on_pool = pool_tar is not None and s.kind == "all"
            n_imp = pool_tar.n_pool if s.tar_on_pool else s.n_impostor
            far = s.far if s.far else np.nan
            i = add(Figure(s.kind, s.label, "fnmr", s.n_persons, s.n_genuine, n_imp, s.note, level))
            figures[i].fmr, figures[i].on_pool = far, s.tar_on_pool
            s.tar = i if s.far else None
        s.dprime = add(Figure(s.kind, s.label, "dprime", *counts, note))
    return figures


def _evaluate(subsets, pool_tar, slope, counts_by_group, out: np.ndarray) -> None:
    """Fill ``out[model, figure]`` for one draw. counts_by_group: [(model idxs, counts)]."""
    for ms, counts in counts_by_group:
        for s in subsets:
            tar = s.tar
            if tar is not None and s.tar_on_pool:  # the threshold on the pool, not the ROC
                for m in ms:
                    out[m, tar] = 1 - pool_tar.tar(m, counts, s.far)  # FNMR = 1 - TAR
                tar = None
            if s.sps is None:
                continue
            lc = counts[s.present]
            fars = np.array([s.far] if tar is not None else [], dtype=np.float64)
            for m in ms:
                roc = s.sps[m].figures(lc, fars)
                if roc is None:
                    continue
                out[m, s.auc] = roc.auc
                if tar is not None:
                    out[m, tar] = 1 - roc.tar[0]
            wg = counts[s.gen_p].astype(np.float64)
            wi = (counts[s.imp_a] * counts[s.imp_b]).astype(np.float64)
            d = _weighted_dprime(s.s_gen, wg, s.s_imp, wi)
            out[ms, s.dprime] = d[ms]
        if slope is not None:
            slope.fill(counts, ms, out)


def _bootstrap(evaluate, models, n_persons, n_figures, n_bootstrap, seed, label, paired):
    """(point [models, figures], draws [models, figures, iterations])."""
    n_models = len(models)
    point = np.full((n_models, n_figures), np.nan)
    evaluate([(list(range(n_models)), np.ones(n_persons, dtype=np.int64))], point)
    values = np.full((n_models, n_figures, max(n_bootstrap, 0)), np.nan)
    if n_persons and n_bootstrap > 0:
        if paired:
            rngs = [subset_rng(seed, label)]
            groups = [list(range(n_models))]
        else:
            rngs = [subset_rng(seed, f"{label}:{m}") for m in models]
            groups = [[j] for j in range(n_models)]
        buf = np.full((n_models, n_figures), np.nan)
        for it in range(n_bootstrap):
            buf[:] = np.nan
            evaluate([(ms, draws(r, n_persons)) for ms, r in zip(groups, rngs, strict=True)], buf)
            values[:, :, it] = buf
    return point, values


def _row(fig: Figure) -> dict:
    return {
        "subset": fig.subset,
        "label": fig.label,
        "metric": fig.metric_name,
        "fmr": fig.fmr,
    }


def paired_comparison(
    scores: Mapping[str, pd.DataFrame] | CommonPairs,
    gap_edges: Sequence[int] | None,
    fmr_levels: Sequence[float] = FAR_LEVELS,
    impostors: str = "same_gap_bin",
    n_bootstrap: int = 1000,
    seed: int = 0,
    label: str = "paired",
    confidence: float = 0.95,
    paired: bool = True,
    slope: bool = True,
    pool: CommonPairs | None = None,
) -> PairedComparison:
    """AUC, FNMR at the largest estimable FMR, d' (overall and per gap bin), age robustness and
    the OLS ageing slope of every model on the common pairs, with paired differences.

    ``scores``: {model: scores table} (or a :class:`CommonPairs`); ``gap_edges``: left edges of
    the gap bins (``None`` or empty: overall only, no age robustness). See the module docstring
    for the conventions. ``pool``: the operating impostor pool's scores on the pool pairs every
    model scored; the overall (``all``) FNMR at FMR is then set on it (``fnmr_at_fmr_<f>``;
    :mod:`.pool_tar`) and its rows count the pool's pairs. Returns a :class:`PairedComparison`.
    """
    cp = scores if isinstance(scores, CommonPairs) else common_pairs(scores)
    models, pairs = cp.models, cp.pairs
    sim = cp.similarity.to_numpy(dtype=np.float64)
    far_levels = sorted(float(f) for f in fmr_levels)
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
        overall = subsets[0]
        overall.far = _largest_estimable(far_levels, pool_tar.n_pool)
        overall.note = (
            _not_estimable(far_levels, pool_tar.n_pool, "operating-pool pairs", fmr_key)
            if far_levels and overall.far is None
            else f"FNMR on the operating pool ({pool_tar.n_pool} impostor pairs)"
        )

    figures = _figures(subsets, far_levels, pool_tar)
    ols = None
    if slope:
        ols = OlsSlope.build(pairs, sim, pa)
        ols.column = len(figures)
        figures.append(
            Figure(
                "all",
                "all",
                "ols_slope_per_year",
                subsets[0].n_persons,
                len(ols.x),
                0,
                "; ".join(x for x in ("OLS slope, not the mixed model", ols.note) if x),
            )
        )

    def evaluate(counts_by_group, out):
        _evaluate(subsets, pool_tar, ols, counts_by_group, out)

    point, values = _bootstrap(
        evaluate, models, n_persons, len(figures), n_bootstrap, seed, label, paired
    )

    # age robustness: AUC of the smallest minus the largest gap bin with an AUC
    bins = [s for s in subsets if s.kind == "gap_bin" and s.sps is not None]
    if len(bins) >= 2:
        first, last = bins[0], bins[-1]
        figures.append(
            Figure(
                "robustness",
                f"{first.label} minus {last.label}",
                "auc_drop",
                len(np.union1d(first.present, last.present)),
                first.n_genuine + last.n_genuine,
                first.n_impostor + last.n_impostor,
                "AUC of the smallest gap bin minus AUC of the largest gap bin",
            )
        )
        point = np.concatenate([point, (point[:, first.auc] - point[:, last.auc])[:, None]], 1)
        values = np.concatenate([values, (values[:, first.auc] - values[:, last.auc])[:, None]], 1)

    rows = []
    for j, m in enumerate(models):
        for i, fig in enumerate(figures):
            est = point[j, i]
            ci = percentile_interval(values[j, i], confidence) if np.isfinite(est) else NO_INTERVAL
            rows.append(
                {"model": m, **_row(fig), "estimate": est, **ci._asdict()}
                | {
                    "n_persons": fig.n_persons,
                    "n_genuine": fig.n_genuine,
                    "n_impostor": fig.n_impostor,
                    "note": fig.note,
                }
            )
    diff_rows = []
    for a, b in itertools.combinations(range(len(models)), 2):
        for i, fig in enumerate(figures):
            est = point[a, i] - point[b, i]
            d = values[a, i] - values[b, i]
            ci, p, text = NO_INTERVAL, np.nan, ""
            if np.isfinite(est):
                ci = percentile_interval(d, confidence)
                p = bootstrap_p_value(d)
                p, text = p_reported(p, ci.n_valid), p_text(p, ci.n_valid)
            diff_rows.append(
                {"model_a": models[a], "model_b": models[b], **_row(fig), "estimate": est}
                | {"lo": ci.lo, "hi": ci.hi, "se": ci.se, "p_value": p, "p_text": text}
                | {
                    "n_valid": ci.n_valid,
                    "note": "; ".join(
                        x for x in (fig.note, "" if paired else "unpaired draws") if x
                    ),
                }
            )
    return PairedComparison(
        per_model=pd.DataFrame(rows, columns=PER_MODEL_COLUMNS),
        differences=pd.DataFrame(diff_rows, columns=DIFFERENCE_COLUMNS),
        common=cp.summary,
    )
