"""Verification metrics: genuine against impostor scores, per age gap and age range.

Input: one scores table (``results/<ds>/scores/<model>.parquet``, see
:mod:`faceage.contracts`). Output: one row per subset of pairs -

* ``all``: every scored pair;
* ``gap_bin``: genuine pairs whose age gap falls in the bin, against impostor
  pairs whose age gap falls in the same bin (``impostors="same_gap_bin"``,
  the AgeDB convention: both classes span the same time) or against all
  impostor pairs (``impostors="all"``);
* ``age_ranges``: pairs whose younger image is in ``range_a`` and older image
  in ``range_b`` (genuine and impostor alike).

Conventions (also written to ``conventions.json`` beside the table by
the ``verification_metrics`` step, see :data:`CONVENTIONS`):

* the score is cosine similarity; a pair is accepted as "same person" when
  its score is >= the threshold; pairs without a score are left out and
  counted in ``n_unscored``;
* ROC, AUC, EER and FNMR at FMR on the subset's own ROC (``roc_fnmr_at_fmr_<f>``) are
  :mod:`faceage.analysis.roc` (*not estimable*, left empty with a note, below ``10 / f``
  impostor pairs); vocabulary ISO/IEC 19795-1 (FMR, FNMR; TAR = 1 - FNMR, FAR ~ FMR);
* every ROC figure of every row (``auc``, ``eer``, ``roc_fnmr_at_fmr_<f>``, the accuracy) rests
  on the row's ``roc_impostors`` (the impostor pairs of the pairs table), every
  ``fnmr_at_fmr_<f>`` on the operating impostor pool (:mod:`faceage.analysis.operating`);
* 10-fold accuracy follows insightface's ``verification.py`` exactly
  (:func:`insightface_accuracy`), with folds that never split a person
  (:func:`person_folds`);
* 95 % intervals come from the subject-level bootstrap of
  :mod:`faceage.analysis.bootstrap`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faceage.analysis.accuracy import (  # noqa: F401 - re-exported: one verification API
    INSIGHTFACE_THRESHOLDS,
    MIN_ACCURACY_PAIRS,
    N_FOLDS,
    balance_folds,
    insightface_accuracy,
    person_folds,
    subset_accuracy,
)
from faceage.analysis.bootstrap import person_codes, roc_key, subject_bootstrap
from faceage.analysis.roc import FAR_LEVELS, MIN_IMPOSTORS_TIMES_FAR, point_metrics_and_curve
from faceage.bins import bin_index, bin_labels

CONVENTIONS = {
    "score": "cosine similarity of the two embeddings (higher = more alike); a pair is accepted "
    "as the same person when score >= threshold",
    "unscored_pairs": "pairs with an empty similarity (an image had no embedding) are left out of "
    "every metric and counted in n_unscored",
    "roc_auc": "sklearn.metrics.roc_curve / roc_auc_score on the scored pairs of the subset "
    "(tied scores count one half)",
    "vocabulary": "ISO/IEC 19795-1: FMR (false match rate) = share of impostor pairs accepted, "
    "FNMR (false non-match rate) = share of genuine pairs rejected; older papers' TAR is "
    "1 - FNMR and their FAR is FMR (for a verification algorithm, without failures to acquire)",
    "impostor_sets": "one impostor set per column, the same in every row: auc, eer, "
    "eer_threshold, roc_fnmr_at_fmr_<f>, acc_*, n_impostor and mean_impostor_similarity rest on "
    "the row's ROC impostors (roc_impostors: the impostor pairs of the pairs table); "
    "fnmr_at_fmr_<f> and n_operating_impostors on the operating impostor pool",
    "eer": "equal error rate: FMR = FNMR, linear interpolation between neighbouring ROC points",
    "roc_fnmr_at_fmr": "roc_fnmr_at_fmr_<f>: 1 - the highest share of genuine pairs accepted "
    "among ROC points with FMR <= f on the row's ROC impostors, no interpolation; not estimable "
    "(empty, see notes) when the row has fewer than 10/f ROC impostor pairs",
    "operating_points": "fnmr_at_fmr_<f> is the "
    "share of a gap bin's genuine pairs scoring below one threshold set on the operating "
    "impostor pool (every cross-person pair up to comparisons.operating_impostors, else a "
    "seeded persons-balanced sample; n_operating_impostors pairs) so that at most a share f of "
    "the pool scores >= it (ties never split); not estimable below 10/f pool pairs; interval: "
    "subject bootstrap over the persons of the genuine pairs and the pool, the threshold re-set "
    "in every iteration; roc_impostors names the impostors of the ROC figures",
    "accuracy": "insightface recognition/arcface_torch/eval/verification.py: distance = 2 - 2 * "
    "cosine (squared L2 distance of unit embeddings), thresholds numpy.arange(0, 4, 0.01), "
    "'same' when distance < threshold; for each fold the threshold with the highest accuracy "
    "on the other folds (the first on ties) is applied to the fold; acc_mean and acc_std are the "
    "mean and population standard deviation (numpy.std, ddof=0) of the fold accuracies",
    "folds": "the comparisons stage deals persons to the folds (most genuine pairs first, each to "
    "the fold with the fewest genuine pairs so far) before it draws impostors, and draws every "
    "impostor pair within one fold, so no person is in two folds and every scored pair is used "
    "(acc_pairs); scores without a fold column (older runs) get the same dealing here, and "
    "impostor pairs across folds are then left out; with balance_accuracy (default) the larger "
    "class of each fold is subsampled (seeded) to the size of the smaller - with matched "
    "impostors drawn within folds the classes are equal and nothing is dropped",
    "accuracy_guard": "the accuracy is reported only when at least 2 folds hold pairs of the "
    "subset and every fold that does holds at least min_accuracy_pairs (default 5) scored pairs "
    "of each class; otherwise the cell is empty and notes say which fold fell short",
    "accuracy_interval": "acc_lo/acc_hi: subject-level bootstrap interval of the accuracy at the "
    "cross-validated threshold (acc_threshold, the mean of the fold thresholds): inside [0, 1], "
    "unlike mean +- std of the fold accuracies",
    "gap_bins": "bin edges [e0, e1, ...] give bins e0..e1-1, ..., last edge and above; the age "
    "gap is age_b - age_a in years",
    "impostors_per_gap_bin": "same_gap_bin: impostor pairs whose two images are as far apart in "
    "age as the bin says (AgeDB convention); all: every impostor pair",
    "confidence_intervals": "95 % percentile intervals of a subject-level bootstrap: persons are "
    "resampled with replacement, a genuine pair weighs the draws of its person, an impostor pair "
    "the product of the draws of its two persons",
}


# --- subsets -----------------------------------------------------------------


def gap_bin_labels(edges: Sequence[int]) -> list[str]:
    """Labels of the age-gap bins: [0, 5, 10] -> ["0-4", "5-9", "10+"].

    (:func:`faceage.bins.bin_labels`)
    """
    return bin_labels(edges)


def assign_gap_bins(age_gap, edges: Sequence[int]) -> pd.Series:
    """Gap-bin label per pair (missing below the first edge or when the gap is unknown)."""
    gaps = pd.to_numeric(pd.Series(age_gap), errors="coerce")
    codes = bin_index(gaps.to_numpy(dtype=np.float64, na_value=np.nan), edges)
    labels = gap_bin_labels(edges)
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=labels, ordered=True), index=gaps.index
    )


def range_order(scores: pd.DataFrame) -> list[str]:
    """Age-range labels ordered by the youngest age seen in each."""
    lows = [
        scores[age].groupby(scores[r], observed=True).min()  # per column: no stacked copy
        for r, age in (("range_a", "age_a"), ("range_b", "age_b"))
    ]
    both = pd.concat(lows)
    both.index = both.index.astype(str)
    lows = both.groupby(level=0).min()
    return [str(r) for r in lows.sort_values(kind="stable").index]


# --- the whole table -------------------------------------------------------


@dataclass
class SubsetCodes:
    """What places a pair in the subsets: its class, gap-bin code (into ``gap_labels``, -1 for
    none) and age-range pair code (``i * len(ranges) + j`` for ranges ``i``, ``j``; -1 for
    none)."""

    genuine: np.ndarray
    gap_bin: np.ndarray
    gap_labels: list[str]
    range_pair: np.ndarray | None
    ranges: list[str]

    @classmethod
    def of(cls, scores: pd.DataFrame, gap_edges: Sequence[int]) -> SubsetCodes:
        bins = assign_gap_bins(scores["age_gap"], gap_edges)
        gen = (scores["genuine"] == 1).to_numpy(dtype=bool, na_value=False)
        codes = bins.cat.codes.to_numpy().astype(np.int8)
        labels = [str(x) for x in bins.cat.categories]
        if "range_a" not in scores or scores["range_a"].isna().all():
            return cls(gen, codes, labels, None, [])
        ranges = range_order(scores)
        ra = pd.Categorical(scores["range_a"], categories=ranges).codes.astype(np.int16)
        rb = pd.Categorical(scores["range_b"], categories=ranges).codes.astype(np.int16)
        pair = np.where((ra >= 0) & (rb >= 0), ra * len(ranges) + rb, -1).astype(np.int16)
        return cls(gen, codes, labels, pair, ranges)


def subset_rows(
    scores: pd.DataFrame | SubsetCodes, gap_edges: Sequence[int], impostors: str = "same_gap_bin"
):
    """Yield (kind, label, extra columns, rows) for every subset of the analysis: ``rows`` are
    the subset's positions in ``scores`` (``None`` for ``all``, every row)."""
    if impostors not in ("same_gap_bin", "all"):
        raise ValueError(f"impostors must be 'same_gap_bin' or 'all', got {impostors!r}")
    codes = scores if isinstance(scores, SubsetCodes) else SubsetCodes.of(scores, gap_edges)
    yield "all", "all", {}, None
    gen = codes.genuine
    for code, lab in enumerate(codes.gap_labels):
        in_bin = codes.gap_bin == code
        mask = in_bin if impostors == "same_gap_bin" else (in_bin & gen) | ~gen
        yield "gap_bin", lab, {"gap_bin": lab}, np.flatnonzero(mask)
    if codes.range_pair is None:
        return
    ranges = codes.ranges
    order = np.argsort(codes.range_pair, kind="stable")
    starts = np.searchsorted(codes.range_pair[order], np.arange(len(ranges) ** 2 + 1))
    for i, ra in enumerate(ranges):
        for j in range(i, len(ranges)):
            c = i * len(ranges) + j
            rows = order[starts[c] : starts[c + 1]]
            if len(rows):
                yield "age_ranges", f"{ra}|{ranges[j]}", {"range_a": ra, "range_b": ranges[j]}, rows


@dataclass
class PairArrays:
    """One model's scores as the arrays the metrics use, one entry per pair (a few bytes each,
    not the table): similarity (float64, NaN unscored), class (int8), person codes in sorted
    name order (int32), fold (float32, NaN missing; ``None`` without the column) and the
    :class:`SubsetCodes`."""

    similarity: np.ndarray
    genuine: np.ndarray
    person_a: np.ndarray
    person_b: np.ndarray
    fold: np.ndarray | None
    subsets: SubsetCodes

    @classmethod
    def of(cls, scores: pd.DataFrame, gap_edges: Sequence[int]) -> PairArrays:
        pa, pb, _ = person_codes(scores["person_a"], scores["person_b"])
        fold = scores["fold"].to_numpy(np.float32, na_value=np.nan) if "fold" in scores else None
        return cls(
            scores["similarity"].to_numpy(dtype=np.float64, na_value=np.nan),
            scores["genuine"].to_numpy(dtype=np.int8, na_value=0),
            pa,
            pb,
            fold,
            SubsetCodes.of(scores, gap_edges),
        )

    def __len__(self) -> int:
        return len(self.similarity)


def _take(values: np.ndarray | None, rows: np.ndarray | None):
    return values if rows is None or values is None else values[rows]


def verification_metrics(
    scores: pd.DataFrame | PairArrays,
    gap_edges: Sequence[int],
    fmr_levels: Sequence[float] = FAR_LEVELS,
    impostors: str = "same_gap_bin",
    n_bootstrap: int = 1000,
    seed: int = 0,
    n_folds: int = N_FOLDS,
    balance_accuracy: bool = True,
    confidence: float = 0.95,
    min_accuracy_pairs: int = MIN_ACCURACY_PAIRS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All metrics of one model's scores: (metrics table, ROC curves on the ROC grid).

    The ROC grid is :data:`faceage.analysis.roc.ROC_GRID`.

    ``metrics`` has one row per subset (see :func:`subset_rows`) with
    counts, point estimates, bootstrap intervals (``<metric>_lo``/``_hi``),
    mean genuine/impostor similarity, 10-fold accuracy and ``notes``.
    ``roc`` is long: subset, label, fpr, tpr.

    The pairs are held as arrays (:class:`PairArrays`, which a caller can make once and drop
    the table) and each subset as the positions of its rows, so a subset copies a few numbers
    per pair, not the table.
    """
    levels = [float(f) for f in fmr_levels]
    rows_out, curves = [], []
    arrays = scores if isinstance(scores, PairArrays) else PairArrays.of(scores, gap_edges)
    sim, gen, fold_all = arrays.similarity, arrays.genuine, arrays.fold
    pa_all, pb_all = arrays.person_a, arrays.person_b
    for kind, label, extra, rows in subset_rows(arrays.subsets, gap_edges, impostors):
        s_sub = _take(sim, rows)
        scored = np.isfinite(s_sub)
        keep = None if scored.all() else np.flatnonzero(scored)
        s = _take(s_sub, keep)
        g = _take(_take(gen, rows), keep)
        pa, pb = _take(_take(pa_all, rows), keep), _take(_take(pb_all, rows), keep)
        persons = np.unique(np.r_[pa, pb])
        row = {
            "subset": kind,
            "label": label,
            "gap_bin": None,
            "range_a": None,
            "range_b": None,
            **extra,
            "n_persons": len(persons),
            "n_genuine_persons": len(np.unique(pa[g == 1])),
            "n_unscored": int((~scored).sum()),
        }
        point, curve = point_metrics_and_curve(g, s, levels)
        row.update(point)
        row["mean_genuine_similarity"] = float(s[g == 1].mean()) if (g == 1).any() else np.nan
        row["mean_impostor_similarity"] = float(s[g == 0].mean()) if (g == 0).any() else np.nan
        estimable = row["n_genuine"] > 0 and row["n_impostor"] > 0
        if estimable:
            fold = _take(_take(fold_all, rows), keep)
            row.update(
                subset_accuracy(
                    s,
                    g,
                    pa,
                    pb,
                    fold,
                    f"{kind}:{label}",
                    n_folds,
                    balance_accuracy,
                    seed,
                    min_accuracy_pairs,
                )
            )
            acc_note = row.pop("acc_note")
            if acc_note:
                row["notes"] = "; ".join(x for x in (row.get("notes", ""), acc_note) if x)
        if estimable and n_bootstrap > 0:
            at = row["acc_threshold"] if np.isfinite(row.get("acc_mean", np.nan)) else None
            ci = subject_bootstrap(
                s,
                g,
                pa,
                pb,
                levels,
                n_bootstrap,
                seed,
                f"{kind}:{label}",
                confidence,
                accuracy_at=at,
            )
            for _, c in ci.iterrows():
                key = "acc_mean" if c["metric"] == "acc" else c["metric"]
                ok = np.isfinite(row.get(key, np.nan))
                row[c["metric"] + "_lo"] = c["lo"] if ok else np.nan
                row[c["metric"] + "_hi"] = c["hi"] if ok else np.nan
        if curve is not None:
            curve.insert(0, "label", label)
            curve.insert(0, "subset", kind)
            curves.append(curve)
        rows_out.append(row)
    metrics = pd.DataFrame(rows_out)
    metrics = metrics.reindex(columns=metric_columns(levels))
    roc = (
        pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=["subset", "label", "fpr", "tpr"])
    )
    return metrics, roc


# metrics.tsv: the counts of a row and its ROC figures (the study copies these by name).
COUNT_COLUMNS = ["n_persons", "n_genuine_persons", "n_genuine", "n_impostor", "n_unscored"]
ROC_COLUMNS = ["auc", "auc_lo", "auc_hi", "eer", "eer_lo", "eer_hi"]


def metric_columns(fmr_levels: Sequence[float]) -> list[str]:
    """metrics.tsv's columns before the operating points (:func:`faceage.analysis.operating.
    with_operating_points` adds ``roc_impostors``, ``fnmr_at_fmr_<f>``...)."""
    cols = ["subset", "label", "gap_bin", "range_a", "range_b"]
    cols += [*COUNT_COLUMNS, *ROC_COLUMNS, "eer_threshold"]
    for f in fmr_levels:
        k = roc_key(f)
        cols += [k, k + "_lo", k + "_hi", k + "_threshold"]
    cols += [
        "acc_mean",
        "acc_std",
        "acc_lo",
        "acc_hi",
        "acc_folds",
        "acc_pairs",
        "acc_threshold",
        "mean_genuine_similarity",
        "mean_impostor_similarity",
        "notes",
    ]
    return cols


def conventions(settings: dict) -> dict:
    """The conventions of the output plus the settings that produced it."""
    return {"conventions": CONVENTIONS, "settings": settings}


def run_settings(
    model: str,
    scores: str,
    gap_edges: Sequence[int],
    fmr_levels: Sequence[float] = FAR_LEVELS,
    impostors: str = "same_gap_bin",
    n_bootstrap: int = 1000,
    seed: int = 0,
    n_folds: int = N_FOLDS,
    balance_accuracy: bool = True,
    min_accuracy_pairs: int = MIN_ACCURACY_PAIRS,
) -> dict:
    """The settings recorded beside a model's metrics (``conventions.json``)."""
    return {
        "model": model,
        "scores": str(scores),
        "gap_bin_edges": list(gap_edges),
        "gap_bins": gap_bin_labels(gap_edges),
        "fmr_levels": list(fmr_levels),
        "impostors_per_gap_bin": impostors,
        "bootstrap_iterations": n_bootstrap,
        "seed": seed,
        "n_folds": n_folds,
        "balance_accuracy": balance_accuracy,
        "min_accuracy_pairs": min_accuracy_pairs,
        "min_impostors_for_fmr": f"{MIN_IMPOSTORS_TIMES_FAR}/FMR",
    }
