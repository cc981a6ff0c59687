"""Plots of the age/gender evaluation (matplotlib, no face pixels).

Each function takes a predictions or summary table and writes one PNG;
nothing here computes a metric that :mod:`faceage.attributes.evaluation`
does not already report.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from faceage.plots import save_png

GENDER_COLOURS = {"F": "#d95f02", "M": "#1b9e77"}


def _ages(pred: pd.DataFrame) -> pd.DataFrame:
    age = pd.to_numeric(pred["age"], errors="coerce").astype("float64")
    age_pred = pd.to_numeric(pred["age_pred"], errors="coerce").astype("float64")
    ok = age.notna() & age_pred.notna()
    return pd.DataFrame({"age": age[ok], "age_pred": age_pred[ok], "gender": pred["gender"][ok]})


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def joint_plot(pred: pd.DataFrame, path, title: str = "", age_range=None) -> None:
    """Predicted against labelled age (years), one dot per face coloured by labelled
    gender, identity line, and both marginal histograms."""
    d = _ages(pred)
    fig = plt.figure(figsize=(6, 6))
    grid = fig.add_gridspec(4, 4, hspace=0.05, wspace=0.05)
    ax = fig.add_subplot(grid[1:, :3])
    top = fig.add_subplot(grid[0, :3], sharex=ax)
    right = fig.add_subplot(grid[1:, 3], sharey=ax)
    if d.empty:
        _empty(ax, "no face with both a labelled and a predicted age")
    else:
        hi = float(max(d["age"].max(), d["age_pred"].max())) + 2
        for g, colour in GENDER_COLOURS.items():
            s = d[d["gender"] == g]
            ax.scatter(
                s["age"],
                s["age_pred"],
                s=8,
                alpha=0.5,
                color=colour,
                label=f"labelled {g}",
                linewidths=0,
            )
        rest = d[~d["gender"].isin(list(GENDER_COLOURS))]
        if len(rest):
            ax.scatter(
                rest["age"], rest["age_pred"], s=8, alpha=0.5, color="grey", label="no gender label"
            )
        ax.plot([0, hi], [0, hi], color="black", linewidth=1, label="predicted = labelled")
        if age_range is not None:
            ax.axhline(
                age_range[1], color="black", linestyle=":", linewidth=1, label="estimator's maximum"
            )
        bins = np.arange(0, hi + 5, 5)
        top.hist(d["age"], bins=bins, color="#7570b3")
        right.hist(d["age_pred"], bins=bins, color="#7570b3", orientation="horizontal")
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.legend(loc="upper left", fontsize=8)
    ax.set_xlabel("labelled age (years)")
    ax.set_ylabel("predicted age (years)")
    top.tick_params(labelbottom=False)
    right.tick_params(labelleft=False)
    top.set_title(title)
    save_png(fig, path)


def age_distributions(pred: pd.DataFrame, path, title: str = "") -> None:
    """Histograms of the labelled and the predicted ages of the same faces (5-year bins)."""
    d = _ages(pred)
    fig, ax = plt.subplots(figsize=(7, 4))
    if d.empty:
        _empty(ax, "no face with both a labelled and a predicted age")
    else:
        hi = float(max(d["age"].max(), d["age_pred"].max())) + 5
        bins = np.arange(0, hi + 5, 5)
        ax.hist(d["age"], bins=bins, alpha=0.5, label=f"labelled (n={len(d)})", color="#7570b3")
        ax.hist(d["age_pred"], bins=bins, alpha=0.5, label="predicted", color="#e7298a")
        ax.set_xlabel("age (years)")
        ax.set_ylabel("faces")
        ax.legend()
    ax.set_title(title)
    save_png(fig, path)


def speed_vs_mae(summaries: pd.DataFrame, path, title: str = "") -> None:
    """Throughput (images/s, log scale) against age MAE (years), one point per estimator."""
    fig, ax = plt.subplots(figsize=(6, 4))
    s = summaries.copy()
    s["images_per_second"] = pd.to_numeric(s["images_per_second"], errors="coerce")
    s["mae"] = pd.to_numeric(s["mae"], errors="coerce")
    s = s.dropna(subset=["images_per_second", "mae"])
    if s.empty:
        _empty(ax, "no estimator with both a throughput and an MAE")
    else:
        ax.scatter(s["images_per_second"], s["mae"], s=40, color="#1b9e77")
        for _, r in s.iterrows():
            acc = r.get("gender_accuracy")
            label = str(r["estimator"]) + (f" (gender {float(acc):.2f})" if pd.notna(acc) else "")
            ax.annotate(
                label,
                (r["images_per_second"], r["mae"]),
                textcoords="offset points",
                xytext=(5, 5),
                fontsize=8,
            )
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.tick_params(axis="x", which="minor", labelsize=7)
        ax.margins(x=0.4)
        ax.set_xlabel("images per second (log scale; model loading excluded)")
        ax.set_ylabel("age MAE (years)")
        ax.set_ylim(0, float(s["mae"].max()) * 1.2)
    ax.set_title(title or "inference speed against age error")
    save_png(fig, path)
