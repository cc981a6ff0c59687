"""Figures of the verification analysis (matplotlib/seaborn, Agg backend, PNG).

Each function takes the tables written by the analysis modules and writes one
figure; none of them shows face images.

* :func:`plot_roc_by_gap` - one model's ROC curve per age-gap bin;
* :func:`plot_metrics_vs_gap` - AUC, FNMR at FMR (ROC impostors) and 10-fold accuracy against the
  age gap, one line per model, 95 % bootstrap bands (accuracy: +-1 std over
  folds);
* :func:`plot_range_heatmaps` - one model's mean genuine similarity and AUC
  for every pair of age ranges;
* :func:`plot_ageing` - one model's genuine similarity against the age gap
  with the mixed model's population line and its confidence band.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from faceage.analysis.ageing import population_line
from faceage.plots import save_png

DPI = 120


def _gap_order(metrics: pd.DataFrame) -> list[str]:
    return [str(x) for x in metrics.loc[metrics["subset"] == "gap_bin", "label"]]


def plot_roc_by_gap(
    roc: pd.DataFrame, metrics: pd.DataFrame, out: str | os.PathLike, title: str = ""
) -> None:
    """ROC curves (1 - FNMR against FMR, log FMR axis) per age-gap bin, plus all pairs dashed."""
    bins = _gap_order(metrics)
    colours = sns.color_palette("viridis", max(len(bins), 1))
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    by_label = metrics.set_index(["subset", "label"])
    min_far = 1.0
    for colour, b in zip(colours, bins, strict=False):
        c = roc[(roc["subset"] == "gap_bin") & (roc["label"].astype(str) == b)]
        if c.empty:
            continue
        m = by_label.loc[("gap_bin", b)]
        floor = 1.0 / max(float(m["n_impostor"]), 1.0)
        c = c[c["fpr"] >= floor]
        min_far = min(min_far, floor)
        ax.step(
            c["fpr"],
            c["tpr"],
            where="post",
            color=colour,
            label=f"gap {b} y: AUC {m['auc']:.3f} ({int(m['n_genuine'])} gen., "
            f"{int(m['n_impostor'])} imp.)",
        )
    c = roc[roc["subset"] == "all"]
    if not c.empty:
        m = by_label.loc[("all", "all")]
        floor = 1.0 / max(float(m["n_impostor"]), 1.0)
        c = c[c["fpr"] >= floor]
        ax.step(
            c["fpr"],
            c["tpr"],
            where="post",
            color="black",
            linestyle="--",
            label=f"all pairs: AUC {m['auc']:.3f}",
        )
    if min_far >= 1.0:  # no curve: no subset had both genuine and impostor pairs
        min_far = 1e-4
        ax.text(
            0.5, 0.5, "no ROC: a class of pairs is missing", ha="center", transform=ax.transAxes
        )
    grid = np.logspace(np.log10(max(min_far, 1e-5)), 0, 100)
    ax.plot(grid, grid, color="grey", linewidth=0.8, linestyle=":", label="chance")
    ax.set_xscale("log")
    ax.set_xlim(max(min_far, 1e-5), 1)
    ax.set_ylim(0, 1.01)
    where = (
        str(metrics["roc_impostors"].dropna().iloc[0])
        if "roc_impostors" in metrics and metrics["roc_impostors"].notna().any()
        else "impostor pairs accepted"
    )
    ax.set_xlabel(f"FMR ({where})", fontsize=8)
    ax.set_ylabel("1 - FNMR (genuine pairs accepted)")
    ax.set_title(title or "ROC by age gap")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, which="both", alpha=0.3)
    save_png(fig, out, dpi=DPI)


def plot_metrics_vs_gap(
    metrics: dict[str, pd.DataFrame],
    out: str | os.PathLike,
    fmr: float | None = None,
    title: str = "",
) -> None:
    """AUC, FNMR at FMR = ``fmr`` on the bin's ROC impostors (``roc_fnmr_at_fmr_<f>``; no panel
    without one) and accuracy per age-gap bin, one line per model with bands."""
    from faceage.analysis.bootstrap import roc_key

    if not metrics:
        raise ValueError("no models to plot")
    first = next(iter(metrics.values()))
    bins = _gap_order(first)
    panels = [("auc", "AUC", "auc_lo", "auc_hi")]
    if fmr is not None:
        k = roc_key(fmr)
        panels.append((k, f"FNMR at FMR = {fmr:g} (ROC impostors)", k + "_lo", k + "_hi"))
    panels.append(("acc_mean", "10-fold accuracy", "acc_lo", "acc_hi"))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.0), squeeze=False)
    colours = sns.color_palette("colorblind", len(metrics))
    x = np.arange(len(bins))
    for ax, (col, name, lo, hi) in zip(axes[0], panels, strict=True):
        for colour, (model, m) in zip(colours, metrics.items(), strict=False):
            g = m[m["subset"] == "gap_bin"].set_index(
                m.loc[m["subset"] == "gap_bin", "label"].astype(str)
            )
            g = g.reindex(bins)
            y = g[col].to_numpy(dtype=float)
            ax.plot(x, y, marker="o", color=colour, label=model)
            if lo in g and hi in g:  # subject-bootstrap intervals: inside [0, 1]
                ax.fill_between(
                    x,
                    g[lo].to_numpy(dtype=float),
                    g[hi].to_numpy(dtype=float),
                    color=colour,
                    alpha=0.2,
                )
        if not any(
            np.isfinite(m.loc[m["subset"] == "gap_bin", col].to_numpy(dtype=float)).any()
            for m in metrics.values()
        ):
            note = (
                "not estimable:\nfewer than 10/FMR\nimpostor pairs per bin"
                if lo and col.startswith("roc_fnmr")
                else "no data"
            )
            ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_xticks(x, bins)
        ax.set_xlabel("age gap (years)")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    save_png(fig, out, dpi=DPI)


def _triangle(metrics: pd.DataFrame, col: str, order: Sequence[str]) -> pd.DataFrame:
    r = metrics[metrics["subset"] == "age_ranges"]
    t = r.pivot_table(index="range_a", columns="range_b", values=col, aggfunc="first")
    return t.reindex(index=list(order), columns=list(order))


def plot_range_heatmaps(metrics: pd.DataFrame, out: str | os.PathLike, title: str = "") -> None:
    """Two heatmaps over (younger image's range, older image's range).

    Mean genuine similarity and AUC.
    """
    r = metrics[metrics["subset"] == "age_ranges"]
    order = list(dict.fromkeys([str(x) for x in r["range_a"]] + [str(x) for x in r["range_b"]]))
    # keep the analysis' order: by the first appearance as range_a, then leftovers
    fig, axes = plt.subplots(1, 2, figsize=(5.5 + 1.2 * len(order), 0.6 * len(order) + 2.5))
    for ax, (col, name, cmap, vmin, vmax) in zip(
        axes,
        [
            ("mean_genuine_similarity", "mean genuine cosine similarity", "mako", None, None),
            ("auc", "AUC (genuine vs impostor)", "rocket", 0.5, 1.0),
        ],
        strict=True,
    ):
        t = _triangle(metrics, col, order)
        sns.heatmap(
            t.astype(float),
            ax=ax,
            annot=True,
            fmt=".2f",
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            cbar_kws={"shrink": 0.8},
            annot_kws={"fontsize": 7},
        )
        ax.set_xlabel("older image's age range")
        ax.set_ylabel("younger image's age range")
        ax.set_title(name)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    save_png(fig, out, dpi=DPI)


def plot_ageing(
    scores: pd.DataFrame,
    ageing: pd.Series | dict,
    out: str | os.PathLike,
    title: str = "",
    seed: int = 0,
    max_points: int = 50_000,
) -> None:
    """Genuine similarity against age gap.

    With the mixed model's population line and band, and the impostor levels. Above
    ``max_points`` genuine pairs the dots are a seeded sample of them (the legend says so).
    """
    keep = (scores["genuine"] == 1).to_numpy(dtype=bool) & scores["similarity"].notna().to_numpy()
    gap = scores["age_gap"].to_numpy(dtype=float)[keep]
    sim = scores["similarity"].to_numpy(dtype=float)[keep]
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    shown, label = np.arange(len(gap)), "genuine pairs"
    if len(gap) > max_points:  # a seeded sample of the dots; the means use every pair
        shown = np.sort(rng.choice(len(gap), max_points, replace=False))
        label = f"genuine pairs (a sample of {max_points:,} of {len(gap):,})"
    ax.scatter(
        gap[shown] + rng.uniform(-0.3, 0.3, len(shown)),
        sim[shown],
        s=4,
        alpha=0.15,
        color="tab:blue",
        label=label,
        rasterized=True,
    )
    means = pd.DataFrame({"gap": gap, "sim": sim}).groupby("gap")["sim"].mean()
    ax.plot(
        means.index,
        means.to_numpy(),
        "o",
        color="tab:blue",
        markersize=3,
        alpha=0.8,
        label="mean per gap",
    )
    a = dict(ageing)
    if np.isfinite(float(a.get("slope_per_year", np.nan))) and len(gap):
        line = population_line(a, np.linspace(0, gap.max(), 100))
        ax.plot(
            line["age_gap"],
            line["mean"],
            color="black",
            label=f"mixed model: {a['slope_per_year'] * 10:+.3f} per decade "
            f"[{a['slope_per_year_lo'] * 10:+.3f}, {a['slope_per_year_hi'] * 10:+.3f}]",
        )
        ax.fill_between(line["age_gap"], line["lo"], line["hi"], color="black", alpha=0.25)
    for key, style, name in [
        ("impostor_mean", "--", "impostor mean"),
        ("impostor_q99", ":", "impostor 99th pct"),
    ]:
        v = float(a.get(key, np.nan))
        if np.isfinite(v):
            ax.axhline(v, color="tab:red", linestyle=style, linewidth=1, label=name)
    ax.set_xlabel("age gap between the two images (years)")
    ax.set_ylabel("cosine similarity")
    ax.set_title(title or "ageing model")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(True, alpha=0.3)
    save_png(fig, out, dpi=DPI)
