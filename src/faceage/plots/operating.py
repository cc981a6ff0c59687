"""DET curves on probit axes (ISO/IEC 19795-1: FNMR against FMR), one curve per gap bin."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.stats import norm  # noqa: E402

from faceage.plots import save_png  # noqa: E402

TICKS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5, 0.8, 0.95]


def _tick_label(x: float) -> str:
    return f"{x * 100:g}%"


def plot_det(det: pd.DataFrame, path: str | os.PathLike, title: str = "") -> None:
    """``det`` (:data:`faceage.analysis.det.DET_COLUMNS`): FNMR against FMR, both on the probit
    scale (a straight line for normal scores), one curve per gap bin (``all`` dashed)."""
    fig, ax = plt.subplots(figsize=(6, 5))
    if det.empty:
        ax.text(0.5, 0.5, "no genuine or no impostor pairs: no DET curve", ha="center")
        ax.set_axis_off()
        save_png(fig, path)
        return
    lo = max(float(det["fmr"].min()), 1e-6)
    for lab, t in det.groupby("gap_bin", sort=False):
        n_g = int(t["n_genuine"].iloc[0])
        ax.plot(
            norm.ppf(t["fmr"]),
            norm.ppf(t["fnmr"]),
            ls="--" if lab == "all" else "-",
            c="0.3" if lab == "all" else None,
            label=f"{lab} ({n_g:,} genuine)",
        )
    ticks = [x for x in TICKS if x >= lo / 2]
    ax.set_xticks(norm.ppf(ticks), [_tick_label(x) for x in ticks], rotation=45)
    yt = [x for x in TICKS if x >= 1e-4]
    ax.set_yticks(norm.ppf(yt), [_tick_label(x) for x in yt])
    ax.set_xlim(norm.ppf(lo), norm.ppf(0.95))
    ax.set_ylim(norm.ppf(1e-4), norm.ppf(0.95))
    ax.grid(True, alpha=0.3)
    n_i = int(det["n_impostor"].iloc[0])
    ax.set_xlabel(f"FMR (false match rate; {n_i:,} operating-pool impostor pairs)")
    ax.set_ylabel("FNMR (false non-match rate)")
    ax.legend(title="age gap (years)", fontsize=8)
    ax.set_title(title or "DET by age gap", fontsize=10)
    fig.tight_layout()
    save_png(fig, path)
