"""Paired model comparisons on the pairs every model scored, with a paired subject bootstrap.

Pure logic (numpy / pandas / statsmodels), no file I/O. Inputs are scores tables as
:mod:`faceage.contracts` describes them (``SCORE_COLUMNS``: ``pair_id``, ``person_a``,
``person_b``, ``genuine``, ``age_gap``, ``similarity``...), one per model, over the same pairs
table; a pair a model could not score has an empty (NaN) similarity.

What is here
------------

* :func:`common_pairs` - the pairs every model scored, and per model how many pairs it lost
  itself (unscored by it) and how many it scored but that left the common set because another
  model did not score them.
* :func:`paired_comparison` - per model and per model pair (A - B), on the common pairs, overall
  and per age-gap bin: AUC, TAR at the largest estimable FAR, decidability d'; the "age
  robustness" (AUC of the smallest gap bin minus AUC of the largest gap bin: positive = the model
  loses accuracy with the gap, smaller = more robust); and an OLS ageing slope. Every figure has a
  subject-bootstrap interval, every difference a paired interval and a bootstrap p-value. Works
  for a single model too (then ``differences`` is empty).
* :func:`deployed_fnmr` - FNMR per gap bin at one threshold per model set on all impostor pairs
  for a target FMR (the NIST FRVT convention).
* :func:`failure_to_enrol` - share of images not enrolled per age range, Wilson interval.
* :func:`decidability` - d' = (mean_gen - mean_imp) / sqrt((var_gen + var_imp) / 2).
* :func:`split_by_gender` - scores split by the gender both persons of a pair share.

Conventions
-----------

* **Score and unscored pairs**: as in :mod:`faceage.analysis.verification` - cosine similarity,
  a pair is accepted as "same person" when its score is ``>=`` the threshold. Comparisons use
  only the common pairs, so a pair one model failed on leaves every model's figures (otherwise
  a model that fails on hard images would look better than one that scores them).
* **Subsets**: ``all`` and one ``gap_bin`` per bin, exactly as
  :func:`faceage.analysis.verification.iter_subsets` makes them (``impostors="same_gap_bin"``:
  a bin's genuine pairs against the impostor pairs of the same gap; ``"all"``: against every
  impostor pair). Bin edges are left edges (:mod:`faceage.bins`).
* **AUC / TAR** come from the exact weighted ROC of :class:`faceage.analysis.bootstrap.SortedPairs`
  (equal to scikit-learn's ROC; ties count one half). TAR at FAR = f is the highest TAR among ROC
  points with FAR <= f (:func:`~faceage.analysis.bootstrap.tar_from_roc`). The FAR used in a
  subset is the **largest** of ``far_levels`` that is estimable there - at least ``10 / f``
  impostor pairs (:data:`~faceage.analysis.verification.MIN_IMPOSTORS_TIMES_FAR`, the project's
  rule); the metric is named after it (``tar_far_0.01``) and the row's ``far`` column gives it.
  When no level is estimable the row is empty with a note. A difference is only formed between
  TARs at the same FAR (the common pairs are the same for both models, so they always agree).
* **d'**: (mean_gen - mean_imp) / sqrt((var_gen + var_imp) / 2) with population variances
  (ddof = 0; weighted by the bootstrap weights in an iteration).
* **Ageing slope** (``ols_slope_per_year``, subset ``all``): an ordinary least-squares slope of
  genuine similarity on the age gap (years), each genuine pair weighted by its person's bootstrap
  count. It is **not** the mixed model of :mod:`faceage.analysis.ageing` (no random effects): a
  cheap, comparable figure for paired differences, not a replacement for ``ageing.tsv``.
* **Paired subject bootstrap**: the unit is the person, as in
  :mod:`faceage.analysis.bootstrap`. Each iteration draws the persons of the common pairs with
  replacement (as many draws as persons); a genuine pair weighs ``c[p]``, an impostor pair
  ``c[p] * c[q]``. The **same** draw serves every model, every subset (all, each gap bin) and
  every metric in that iteration, so differences between models and between gap bins (age
  robustness) are paired. Unlike ``verification_metrics``, which draws the persons of each subset
  separately, a gap bin here sees the persons of the global draw who have pairs in it (their
  number varies between iterations, as it would between samples of persons). With
  ``paired=False`` each model gets its own independent draws (for comparison only: the
  interval of a difference is then wider, since shared person effects no longer cancel).
* **Intervals**: percentile intervals (2.5 / 97.5 % for 95 %) over the iterations in which the
  figure exists (``n_valid``; an iteration in which a subset lost a class is skipped); ``se`` is
  the standard deviation of the bootstrap distribution.
* **p-value** of a difference D = A - B: ``p = min(1, 2 * min(P*(D <= 0), P*(D >= 0)))`` where P*
  is the share of valid iterations - the two-sided bootstrap p-value of "no difference". It
  is < 0.05 roughly when the 95 % percentile interval excludes 0; identical models give D = 0 in
  every iteration and p = 1. Its resolution is 2 / n_valid: with 1000 iterations the smallest
  non-zero value is 0.002, and p = 0 means "< 1 / n_valid", not zero.
* **Seeds**: the generator is :func:`faceage.analysis.bootstrap.subset_rng` ``(seed, label)``
  (``label`` defaults to ``"paired"``; unpaired draws use ``label + ":" + model``): the same
  seed and label give the same intervals.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faceage.analysis.bootstrap import (
    SortedPairs,
    auc_from_roc,
    far_key,
    subset_rng,
    tar_from_roc,
)
from faceage.analysis.verification import (
    FAR_LEVELS,
    MIN_IMPOSTORS_TIMES_FAR,
    assign_gap_bins,
    iter_subsets,
)
from faceage.bins import bin_index, bin_labels

FMR_LEVELS = (1e-3, 1e-4, 1e-5)
MIN_GENDER_PERSONS = 10

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
    "n_valid",
    "note",
]
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
FTE_COLUMNS = [
    "model",
    "age_range",
    "n_images",
    "n_not_enrolled",
    "fte",
    "fte_lo",
    "fte_hi",
    "method",
]


def _estimable(n_impostor: int, far: float) -> bool:
    """The project's rule: a rate of ``far`` needs at least ``10 / far`` impostor pairs."""
    return n_impostor * far >= MIN_IMPOSTORS_TIMES_FAR * (1 - 1e-9)


def _needs(far: float) -> int:
    return int(np.ceil(MIN_IMPOSTORS_TIMES_FAR / far))


# --- common pairs ------------------------------------------------------------------


@dataclass
class CommonPairs:
    """The pairs every model scored.

    ``pairs``: the pair columns (no ``similarity``) of the common pairs, index 0..n-1;
    ``similarity``: one column per model, aligned with ``pairs``; ``summary``: one row per
    model - ``n_pairs`` (pairs in the union of the tables), ``n_unscored`` (pairs this model did
    not score, ``n_unscored_genuine`` of them genuine), ``n_dropped_by_others`` (pairs this model
    scored that left the common set because another model did not), ``n_common``,
    ``n_common_genuine``, ``n_common_impostor``. ``n_pairs = n_unscored + n_dropped_by_others +
    n_common``.
    """

    pairs: pd.DataFrame
    similarity: pd.DataFrame
    summary: pd.DataFrame

    @property
    def models(self) -> list[str]:
        return list(self.similarity.columns)

    def scores(self, model: str) -> pd.DataFrame:
        """One model's scores table restricted to the common pairs."""
        return self.pairs.assign(similarity=self.similarity[model].to_numpy())


def common_pairs(scores: Mapping[str, pd.DataFrame], key: str = "pair_id") -> CommonPairs:
    """Align the models' scores tables on ``key`` and keep the pairs every model scored.

    A pair missing from a model's table counts as unscored by it. When ``key`` is not a column of
    every table, the tables are aligned by position (they must then have the same length).
    Raises ``ValueError`` when a key repeats or the tables disagree on whether a pair is genuine.
    """
    models = list(scores)
    if not models:
        raise ValueError("common_pairs needs at least one model")
    frames = [scores[m].reset_index(drop=True) for m in models]
    keyed = bool(key) and all(key in f.columns for f in frames)
    if keyed:
        for m, f in zip(models, frames, strict=True):
            if f[key].duplicated().any():
                raise ValueError(f"model {m!r}: {key} repeats")
        indexed = [f.set_index(key) for f in frames]
        union = pd.Index(pd.unique(pd.concat([pd.Series(f.index) for f in indexed])), name=key)
    else:
        lengths = [len(f) for f in frames]
        if len(set(lengths)) > 1:
            raise ValueError(
                f"tables without a common {key!r} column must have the same length, got "
                f"{dict(zip(models, lengths, strict=True))}"
            )
        indexed = frames
        union = pd.RangeIndex(lengths[0])
    pair_cols = [c for c in indexed[0].columns if c != "similarity"]
    ref = indexed[0].reindex(union)[pair_cols]
    for f in indexed[1:]:
        ref = ref.combine_first(f.reindex(union)[[c for c in pair_cols if c in f.columns]])
        ref = ref[pair_cols]
    gen = {}
    for m, f in zip(models, indexed, strict=True):
        gen[m] = pd.to_numeric(f["genuine"].reindex(union), errors="coerce")
    g = pd.DataFrame(gen)
    spread = g.max(axis=1) - g.min(axis=1)
    if (spread > 0).any():
        bad = union[np.flatnonzero((spread > 0).to_numpy())[0]]
        raise ValueError(f"models disagree on whether pair {bad!r} is genuine")
    sim = pd.DataFrame(
        {
            m: pd.to_numeric(f["similarity"].reindex(union), errors="coerce").to_numpy(
                dtype=np.float64
            )
            for m, f in zip(models, indexed, strict=True)
        }
    )
    scored = np.isfinite(sim.to_numpy())
    common = scored.all(axis=1)
    genuine = (g.max(axis=1) == 1).to_numpy()
    rows = []
    for j, m in enumerate(models):
        rows.append(
            {
                "model": m,
                "n_pairs": len(union),
                "n_unscored": int((~scored[:, j]).sum()),
                "n_unscored_genuine": int((~scored[:, j] & genuine).sum()),
                "n_dropped_by_others": int((scored[:, j] & ~common).sum()),
                "n_common": int(common.sum()),
                "n_common_genuine": int((common & genuine).sum()),
                "n_common_impostor": int((common & ~genuine).sum()),
            }
        )
    pairs = ref.reset_index() if keyed else ref.reset_index(drop=True)
    pairs = pairs[common].reset_index(drop=True)
    pairs["genuine"] = genuine[common].astype(int)
    return CommonPairs(
        pairs=pairs,
        similarity=sim[common].reset_index(drop=True),
        summary=pd.DataFrame(rows),
    )


# --- decidability ---------------------------------------------------------------------


def decidability(similarity, genuine) -> float:
    """d' = (mean_gen - mean_imp) / sqrt((var_gen + var_imp) / 2), population variances.

    NaN scores are left out; NaN when a class is empty or both variances are zero.
    """
    s = np.asarray(similarity, dtype=np.float64)
    g = np.asarray(genuine).astype(bool)
    ok = np.isfinite(s)
    sg, si = s[ok & g], s[ok & ~g]
    if not len(sg) or not len(si):
        return float("nan")
    den = np.sqrt((sg.var() + si.var()) / 2.0)
    return float((sg.mean() - si.mean()) / den) if den > 0 else float("nan")


def _weighted_dprime(s_gen, wg, s_imp, wi) -> np.ndarray:
    """d' per column of ``s_gen`` / ``s_imp`` (centred score matrices) with pair weights."""
    Wg, Wi = float(wg.sum()), float(wi.sum())
    if Wg <= 0 or Wi <= 0:
        return np.full(s_gen.values.shape[1], np.nan)
    mg = (wg @ s_gen.values) / Wg
    mi = (wi @ s_imp.values) / Wi
    vg = (wg @ s_gen.squares) / Wg - mg**2
    vi = (wi @ s_imp.squares) / Wi - mi**2
    den = np.sqrt(np.maximum((vg + vi) / 2.0, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        d = ((mg + s_gen.centre) - (mi + s_imp.centre)) / den
    return np.where(den > 0, d, np.nan)


@dataclass
class _Centred:
    """Score matrix (pairs x models) centred per column, for stable weighted variances."""

    values: np.ndarray
    squares: np.ndarray
    centre: np.ndarray

    @classmethod
    def of(cls, s: np.ndarray) -> _Centred:
        centre = s.mean(axis=0) if len(s) else np.zeros(s.shape[1])
        c = s - centre
        return cls(c, c**2, centre)


# --- the paired bootstrap ---------------------------------------------------------------


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
    """The ``all`` and ``gap_bin`` subsets of :func:`iter_subsets`, prepared for the bootstrap."""
    frame = pd.DataFrame(
        {
            "genuine": pairs["genuine"].to_numpy(dtype=int),
            "age_gap": pairs["age_gap"].to_numpy() if "age_gap" in pairs else np.nan,
            # no age ranges: iter_subsets then yields only "all" and the gap bins
            "range_a": None,
            "range_b": None,
            "age_a": np.nan,
            "age_b": np.nan,
            "_row": np.arange(len(pairs)),
        }
    )
    edges = list(gap_edges) if gap_edges is not None and len(gap_edges) else None
    if edges is None:
        items = [("all", "all", {}, frame)]
    else:
        items = [it for it in iter_subsets(frame, edges, impostors) if it[0] != "age_ranges"]
    out = []
    for kind, label, _extra, sub in items:
        rows = sub["_row"].to_numpy()
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


def _draws(rng: np.random.Generator, n_persons: int) -> np.ndarray:
    return np.bincount(rng.integers(0, n_persons, size=n_persons), minlength=n_persons)


def _interval(v: np.ndarray, confidence: float) -> tuple[float, float, float, int]:
    v = v[np.isfinite(v)]
    if not len(v):
        return float("nan"), float("nan"), float("nan"), 0
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(v, [alpha, 1 - alpha])
    se = float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")
    return float(lo), float(hi), se, len(v)


def bootstrap_p_value(diffs) -> float:
    """Two-sided bootstrap p-value of "no difference": min(1, 2 min(P(D <= 0), P(D >= 0)))."""
    d = np.asarray(diffs, dtype=np.float64)
    d = d[np.isfinite(d)]
    if not len(d):
        return float("nan")
    return float(np.clip(2.0 * min(np.mean(d <= 0), np.mean(d >= 0)), 0.0, 1.0))


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
) -> PairedComparison:
    """AUC, TAR at the largest estimable FAR, d' (overall and per gap bin), age robustness and
    the OLS ageing slope of every model on the common pairs, with paired differences.

    ``scores``: {model: scores table} (or a :class:`CommonPairs`); ``gap_edges``: left edges of
    the gap bins (``None`` or empty: overall only, no age robustness). See the module docstring
    for the conventions. Returns a :class:`PairedComparison`.
    """
    cp = scores if isinstance(scores, CommonPairs) else common_pairs(scores)
    models = cp.models
    pairs = cp.pairs
    sim = cp.similarity.to_numpy(dtype=np.float64)
    n = len(pairs)
    codes, _ = pd.factorize(
        pd.concat([pairs["person_a"], pairs["person_b"]], ignore_index=True).astype(str),
        sort=True,
    )
    pa, pb = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
    n_persons = int(codes.max()) + 1 if n else 0
    far_levels = sorted(float(f) for f in far_levels)
    subsets = _subsets(pairs, sim, pa, pb, gap_edges, impostors, far_levels)
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
        else np.full(n, np.nan)
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

    def evaluate(counts_by_group, out: np.ndarray) -> None:
        """Fill out[model, key] for one iteration. counts_by_group: [(model idxs, counts)]."""
        for ms, counts in counts_by_group:
            for s in subsets:
                if s.sps is None:
                    continue
                lc = counts[s.present]
                ka = key_index[(s.kind, s.label, "auc")]
                kt = key_index.get((s.kind, s.label, far_key(s.far))) if s.far else None
                for m in ms:
                    fpr, tpr = s.sps[m].roc(lc)
                    if fpr is None:
                        continue
                    out[m, ka] = auc_from_roc(fpr, tpr)
                    if kt is not None:
                        out[m, kt] = tar_from_roc(fpr, tpr, s.far)[0]
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
            else:
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


# --- deployed-threshold FNMR ------------------------------------------------------------


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
) -> pd.DataFrame:
    """FNMR per gap bin at a deployed threshold (NIST FRVT convention), with bootstrap intervals.

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
        n = len(df)
        s = pd.to_numeric(df["similarity"], errors="coerce").to_numpy(dtype=np.float64)
        g = df["genuine"].to_numpy(dtype=int) == 1
        codes, _ = pd.factorize(
            pd.concat([df["person_a"], df["person_b"]], ignore_index=True).astype(str), sort=True
        )
        pa, pb = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
        n_persons = int(codes.max()) + 1 if n else 0
        n_imp = int((~g).sum())
        groups = [("all", np.flatnonzero(g))]
        if edges is not None:
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


# --- failure to enrol ------------------------------------------------------------------


def failure_to_enrol(
    images: Mapping[str, pd.DataFrame] | pd.DataFrame,
    age_edges: Sequence[int],
    confidence: float = 0.95,
    method: str = "wilson",
) -> pd.DataFrame:
    """Share of images a model did not enrol, per age range, with a binomial interval.

    ``images``: {model: table with ``image_id``, ``age``, ``enrolled`` (bool)} or one table (with
    a ``model`` column, or one unnamed model ``""``). ``age_edges``: left edges of the age ranges
    (:mod:`faceage.bins`). ``method`` is passed to ``statsmodels``' ``proportion_confint``
    (``"wilson"``; ``"beta"`` is Clopper-Pearson). Returns :data:`FTE_COLUMNS`, per model one row
    per age range (in order; an empty range has ``n_images`` 0 and an empty share), then
    ``unknown`` (only when some images have no age or one below the first edge), then ``all``.
    Raises ``ValueError`` when ``enrolled`` is missing for an image.
    """
    from statsmodels.stats.proportion import proportion_confint

    if isinstance(images, pd.DataFrame):
        if "model" in images.columns:
            tables = {m: t for m, t in images.groupby("model", sort=False)}
        else:
            tables = {"": images}
    else:
        tables = dict(images)
    labels = bin_labels(age_edges)
    rows = []
    for model, t in tables.items():
        if t["enrolled"].isna().any():
            raise ValueError(f"model {model!r}: enrolled is missing for some images")
        enrolled = t["enrolled"].astype(bool).to_numpy()
        age = pd.to_numeric(t["age"], errors="coerce").to_numpy(dtype=np.float64)
        idx = bin_index(age, age_edges)
        groups = [(lab, idx == k) for k, lab in enumerate(labels)]
        if (idx < 0).any():
            groups.append(("unknown", idx < 0))
        groups.append(("all", np.ones(len(t), dtype=bool)))
        for lab, mask in groups:
            n_img = int(mask.sum())
            n_fail = int((mask & ~enrolled).sum())
            if n_img:
                lo, hi = proportion_confint(n_fail, n_img, alpha=1 - confidence, method=method)
                # exact ends where they are exact (Wilson's formula leaves ~1e-17 of round-off)
                lo = 0.0 if n_fail == 0 else min(max(lo, 0.0), 1.0)
                hi = 1.0 if n_fail == n_img else min(max(hi, 0.0), 1.0)
                share = n_fail / n_img
            else:
                lo = hi = share = np.nan
            rows.append(
                {
                    "model": model,
                    "age_range": lab,
                    "n_images": n_img,
                    "n_not_enrolled": n_fail,
                    "fte": share,
                    "fte_lo": float(lo),
                    "fte_hi": float(hi),
                    "method": method,
                }
            )
    return pd.DataFrame(rows, columns=FTE_COLUMNS)


# --- by gender --------------------------------------------------------------------------


def _person_gender(gender) -> pd.Series:
    """person -> gender label (NA when unknown or when a person's labels disagree)."""
    if isinstance(gender, pd.DataFrame):
        t = gender[["person", "gender"]].copy()
    elif isinstance(gender, pd.Series):
        t = pd.DataFrame({"person": gender.index, "gender": gender.to_numpy()})
    else:
        t = pd.DataFrame({"person": list(gender), "gender": list(dict(gender).values())})
    t["person"] = t["person"].astype(str)
    lab = t["gender"].astype("string").str.strip()
    t["gender"] = lab.mask(lab == "")
    t = t.dropna(subset=["gender"])
    per = t.groupby("person")["gender"].agg(lambda x: x.iloc[0] if x.nunique() == 1 else pd.NA)
    return per


def split_by_gender(
    scores: pd.DataFrame, gender, min_persons: int = MIN_GENDER_PERSONS
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Scores split by gender: the pairs whose two persons share a gender label.

    ``gender``: person -> gender as a mapping, a Series indexed by person, or a table with
    ``person`` and ``gender`` (e.g. the manifest, one row per image). A person with no label, or
    with disagreeing labels, is unknown; impostor pairs across genders or with an unknown person
    are in no subset. A gender with fewer than ``min_persons`` persons in the scores is skipped.
    Returns ({gender: scores rows}, summary) - summary: one row per gender plus ``unknown``, with
    ``n_persons``, ``n_genuine``, ``n_impostor``, ``used`` and ``note`` (why a gender was
    skipped, with the persons per gender).
    """
    persons = pd.unique(pd.concat([scores["person_a"], scores["person_b"]]).astype(str))
    per = _person_gender(gender).reindex(persons)
    ga_s = per.reindex(scores["person_a"].astype(str))
    gb_s = per.reindex(scores["person_b"].astype(str))
    known_a, known_b = ga_s.notna().to_numpy(), gb_s.notna().to_numpy()
    ga = ga_s.astype(object).where(known_a, "").to_numpy(dtype=object)
    gb = gb_s.astype(object).where(known_b, "").to_numpy(dtype=object)
    same = known_a & known_b & (ga == gb)
    counts = per.value_counts(dropna=True)
    n_unknown = int(per.isna().sum())
    tally = ", ".join(f"{k}: {v}" for k, v in counts.items()) + (
        f", unknown: {n_unknown}" if n_unknown else ""
    )
    gen = scores["genuine"].to_numpy(dtype=int) == 1
    subsets: dict[str, pd.DataFrame] = {}
    rows = []
    if counts.empty:
        rows.append(
            {
                "gender": "unknown",
                "n_persons": n_unknown,
                "n_genuine": int(gen.sum()),
                "n_impostor": int((~gen).sum()),
                "used": False,
                "note": f"no gender labels for any of the {len(persons)} persons: not split",
            }
        )
        return subsets, pd.DataFrame(rows)
    for lab, n_p in counts.items():
        m = same & (ga == lab)
        used = int(n_p) >= min_persons
        note = (
            ""
            if used
            else (f"skipped: {n_p} persons of gender {lab}, needs >= {min_persons} ({tally})")
        )
        if used:
            subsets[str(lab)] = scores[m]
        rows.append(
            {
                "gender": str(lab),
                "n_persons": int(n_p),
                "n_genuine": int((m & gen).sum()),
                "n_impostor": int((m & ~gen).sum()),
                "used": used,
                "note": note,
            }
        )
    if n_unknown:
        m_unk = ~known_a | ~known_b
        rows.append(
            {
                "gender": "unknown",
                "n_persons": n_unknown,
                "n_genuine": int((m_unk & gen).sum()),
                "n_impostor": int((m_unk & ~gen).sum()),
                "used": False,
                "note": f"no (or disagreeing) gender label; pairs left out ({tally})",
            }
        )
    return subsets, pd.DataFrame(rows)
