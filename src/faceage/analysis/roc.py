"""ROC and point metrics of one set of scored pairs: AUC, EER, FNMR at FMR.

Vocabulary: ISO/IEC 19795-1 - FMR (false match rate, the share of impostor pairs accepted; older
papers' FAR) and FNMR (false non-match rate, the share of genuine pairs rejected; older papers'
TAR is 1 - FNMR). sklearn's ``fpr`` is FMR and ``tpr`` is 1 - FNMR.

The score is cosine similarity; a pair is accepted as "same person" when its score is >= the
threshold. ROC and AUC are :func:`sklearn.metrics.roc_curve` and
:func:`sklearn.metrics.roc_auc_score`; EER is where FMR = FNMR, linearly interpolated between ROC
points; FNMR at FMR = f (``roc_fnmr_at_fmr_<f>``) is 1 - the highest tpr among ROC points with
fpr <= f, *not estimable* (empty, with a note) below ``MIN_IMPOSTORS_TIMES_FAR / f`` impostor
pairs. The per-subset table that
calls these is :mod:`faceage.analysis.verification`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from faceage.analysis.bootstrap import eer_from_roc, roc_key, tar_from_roc

FAR_LEVELS = (1e-2, 1e-3, 1e-4)  # FMR levels of the ROC figures (roc_fnmr_at_fmr_<f>)
MIN_IMPOSTORS_TIMES_FAR = 10  # FNMR at FMR f needs at least 10 / f impostor pairs


def estimable(n_impostor: int, rate: float) -> bool:
    """The project's one rule for an FMR ``rate``: it needs at least ``10 / rate`` impostor
    pairs (FNMR at FMR on a ROC or on the operating pool, the paired figures alike)."""
    return n_impostor * rate >= MIN_IMPOSTORS_TIMES_FAR * (1 - 1e-9)


def needs(rate: float) -> int:
    """The impostor pairs a rate of ``rate`` needs (:func:`estimable`)."""
    return int(np.ceil(MIN_IMPOSTORS_TIMES_FAR / rate))


# FMR (fpr) grid on which ROC curves are stored for plotting (log-spaced plus linear).
ROC_GRID = np.unique(np.r_[0.0, np.logspace(-5, 0, 151), np.linspace(0, 1, 101)])


def roc_table(genuine, similarity) -> pd.DataFrame:
    """sklearn's ROC (every distinct threshold): fpr, tpr, threshold."""
    fpr, tpr, thr = roc_curve(
        np.asarray(genuine, dtype=int), np.asarray(similarity, dtype=float), drop_intermediate=False
    )
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr})


def roc_on_grid(fpr: np.ndarray, tpr: np.ndarray, grid: np.ndarray = ROC_GRID) -> pd.DataFrame:
    """tpr = 1 - FNMR (step, no interpolation) at each fpr = FMR of ``grid``: a compact curve
    for plots."""
    idx = np.searchsorted(fpr, grid * (1 + 1e-12), side="right") - 1
    return pd.DataFrame({"fpr": grid, "tpr": tpr[np.clip(idx, 0, None)]})


def point_metrics(genuine, similarity, fmr_levels: Sequence[float] = FAR_LEVELS) -> dict:
    """AUC, EER (+ threshold), FNMR at each FMR of ``fmr_levels`` (``roc_fnmr_at_fmr_<f>``,
    + thresholds) of scored pairs.

    Notes say what is not estimable.
    """
    return point_metrics_and_curve(genuine, similarity, fmr_levels)[0]


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
            out[roc_key(far)] = np.nan
            out[roc_key(far) + "_threshold"] = np.nan
        notes.append("no genuine pairs" if n_gen == 0 else "no impostor pairs")
        out["notes"] = "; ".join(notes)
        return out, None
    fpr, tpr, thr = roc_curve(g, s, drop_intermediate=False)
    out["auc"] = float(roc_auc_score(g, s))
    out["eer"], out["eer_threshold"] = eer_from_roc(fpr, tpr, thr)
    for far in far_levels:
        key = roc_key(far)
        if not estimable(n_imp, far):
            out[key] = np.nan
            out[key + "_threshold"] = np.nan
            notes.append(f"{key} not estimable ({n_imp} impostor pairs, needs >= {needs(far)})")
        else:
            tar, i = tar_from_roc(fpr, tpr, far)
            out[key] = 1 - tar
            out[key + "_threshold"] = float(thr[i])
    out["notes"] = "; ".join(notes)
    # the step curve on the grid: the points sklearn's drop_intermediate leaves out lie on
    # horizontal and vertical runs, so the full curve gives the same tpr at every fpr
    return out, roc_on_grid(fpr, tpr)
