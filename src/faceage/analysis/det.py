"""DET curves (ISO/IEC 19795-1: FNMR against FMR on probit axes) of genuine pairs against the
operating impostor pool: :func:`sklearn.metrics.det_curve`, one curve per gap bin.

The curve has a point per distinct impostor score (half a million on FG-NET); the table keeps
the points that move by at least 0.02 on either probit axis (:func:`thin_det`), which draws the
same curve."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import det_curve

from faceage.analysis.operating import OperatingScores

DET_COLUMNS = ["model", "gap_bin", "n_genuine", "n_impostor", "fmr", "fnmr", "threshold"]


def det_points(gen_s: np.ndarray, imp_s: np.ndarray):
    """:func:`sklearn.metrics.det_curve` of genuine (positive) against impostor scores:
    (fmr, fnmr, thresholds)."""
    y = np.r_[np.ones(len(gen_s), dtype=np.int8), np.zeros(len(imp_s), dtype=np.int8)]
    return det_curve(y, np.r_[gen_s, imp_s])


def thin_det(fmr, fnmr, thr, step: float = 0.02):
    """The DET points that move by at least ``step`` on either probit axis (plus the ends):
    a curve for a table and a plot, not one row per distinct impostor score."""
    from scipy.stats import norm

    inside = (fmr > 0) & (fmr < 1) & (fnmr > 0) & (fnmr < 1)
    x = np.round(norm.ppf(np.clip(fmr, 1e-12, 1 - 1e-12)) / step)
    y = np.round(norm.ppf(np.clip(fnmr, 1e-12, 1 - 1e-12)) / step)
    change = np.r_[True, (x[1:] != x[:-1]) | (y[1:] != y[:-1])]
    keep = change & inside
    return fmr[keep], fnmr[keep], thr[keep]


def det_table(
    scores: OperatingScores, groups: Sequence[tuple[str, np.ndarray]], model: str = ""
) -> pd.DataFrame:
    """Per group, its DET curve against the whole pool, thinned (:func:`thin_det`):
    :data:`DET_COLUMNS`."""
    parts = []
    for lab, rows in groups:
        if not len(rows) or not len(scores.imp_s):
            continue
        fmr, fnmr, thr = thin_det(*det_points(scores.gen_s[rows], scores.imp_s))
        parts.append(
            pd.DataFrame(
                {
                    "model": model,
                    "gap_bin": lab,
                    "n_genuine": len(rows),
                    "n_impostor": len(scores.imp_s),
                    "fmr": fmr,
                    "fnmr": fnmr,
                    "threshold": thr,
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=DET_COLUMNS)
