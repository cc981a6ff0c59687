"""ROC and point metrics of one set of scored pairs: AUC, EER, TAR at FAR.

The score is cosine similarity; a pair is accepted as "same person" when its score is >= the
threshold. ROC and AUC are :func:`sklearn.metrics.roc_curve` and
:func:`sklearn.metrics.roc_auc_score`; EER is where FAR = FRR, linearly interpolated between ROC
points; TAR at FAR = f is the highest TAR among ROC points with FAR <= f, *not estimable* (empty,
with a note) below ``MIN_IMPOSTORS_TIMES_FAR / f`` impostor pairs. The per-subset table that
calls these is :mod:`faceage.analysis.verification`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from faceage.analysis.bootstrap import eer_from_roc, far_key, tar_from_roc

FAR_LEVELS = (1e-2, 1e-3, 1e-4)
MIN_IMPOSTORS_TIMES_FAR = 10  # TAR@FAR needs at least 10 / FAR impostor pairs


def estimable(n_impostor: int, rate: float) -> bool:
    """The project's one rule for a rate (FAR = FMR) ``rate``: it needs at least ``10 / rate``
    impostor pairs (TAR at FAR, FNMR at FMR, the paired figures alike)."""
    return n_impostor * rate >= MIN_IMPOSTORS_TIMES_FAR * (1 - 1e-9)


def needs(rate: float) -> int:
    """The impostor pairs a rate of ``rate`` needs (:func:`estimable`)."""
    return int(np.ceil(MIN_IMPOSTORS_TIMES_FAR / rate))


# FAR grid on which ROC curves are stored for plotting (log-spaced plus linear).
ROC_GRID = np.unique(np.r_[0.0, np.logspace(-5, 0, 151), np.linspace(0, 1, 101)])


def roc_table(genuine, similarity) -> pd.DataFrame:
    """sklearn's ROC (every distinct threshold): fpr, tpr, threshold."""
    fpr, tpr, thr = roc_curve(
        np.asarray(genuine, dtype=int), np.asarray(similarity, dtype=float), drop_intermediate=False
    )
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr})


def roc_on_grid(fpr: np.ndarray, tpr: np.ndarray, grid: np.ndarray = ROC_GRID) -> pd.DataFrame:
    """TAR (step, no interpolation) at each FAR of ``grid``: a compact curve for plots."""
    idx = np.searchsorted(fpr, grid * (1 + 1e-12), side="right") - 1
    return pd.DataFrame({"fpr": grid, "tpr": tpr[np.clip(idx, 0, None)]})


def point_metrics(genuine, similarity, far_levels: Sequence[float] = FAR_LEVELS) -> dict:
    """AUC, EER (+ threshold), TAR@FAR (+ thresholds) of scored pairs.

    Notes say what is not estimable.
    """
    return point_metrics_and_curve(genuine, similarity, far_levels)[0]


def point_metrics_and_curve(genuine, similarity, far_levels: Sequence[float]):
    """:func:`point_metrics` and the ROC on :data:`ROC_GRID` (None without both classes), from
    one sorting of the scores."""
    g = np.asarray(genuine, dtype=np.int8)  # small: sklearn copies it once more
    s = np.asarray(similarity, dtype=float)
    n_gen, n_imp = int(np.count_nonzero(g)), int(np.count_nonzero(g == 0))
    out: dict = {"n_genuine": n_gen, "n_impostor": n_imp}
    notes = []
    if n_gen == 0 or n_imp == 0:
        out.update({"auc": np.nan, "eer": np.nan, "eer_threshold": np.nan})
        for far in far_levels:
            out[far_key(far)] = np.nan
            out[far_key(far) + "_threshold"] = np.nan
        notes.append("no genuine pairs" if n_gen == 0 else "no impostor pairs")
        out["notes"] = "; ".join(notes)
        return out, None
    fpr, tpr, thr = roc_curve(g, s, drop_intermediate=False)
    out["auc"] = float(roc_auc_score(g, s))
    out["eer"], out["eer_threshold"] = eer_from_roc(fpr, tpr, thr)
    for far in far_levels:
        key = far_key(far)
        if not estimable(n_imp, far):
            out[key] = np.nan
            out[key + "_threshold"] = np.nan
            notes.append(f"{key} not estimable ({n_imp} impostor pairs, needs >= {needs(far)})")
        else:
            out[key], i = tar_from_roc(fpr, tpr, far)
            out[key + "_threshold"] = float(thr[i])
    out["notes"] = "; ".join(notes)
    # the step curve on the grid: the points sklearn's drop_intermediate leaves out lie on
    # horizontal and vertical runs, so the full curve gives the same TAR at every FAR
    return out, roc_on_grid(fpr, tpr)
