"""Figures of the study (results/study/): every dataset side by side. No statistics here: each
point and bar is a cell of the study's tables.

* :func:`plot_by_gap` - small multiples: a column per dataset, a row per figure (AUC; FNMR at
  the fixed FMR), a line per model against the age-gap bins, 95 % intervals as bars;
* :func:`plot_forest` - the paired model differences of every dataset in one forest plot: a
  row per dataset, model pair and subset (``all``, each gap bin), the difference A - B with its
  paired 95 % interval, the dashed line "no difference".
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from faceage.plots import save_png  # noqa: E402
from faceage.plots.paired import _empty, _p_label  # noqa: E402

FIGURES = (("auc", "AUC"), ("fnmr", "FNMR"))


def plot_by_gap(summary: pd.DataFrame, path: str | os.PathLike) -> None:
    t = summary[summary["subset"] == "gap_bin"]
    if t.empty:
        _empty(path, "no gap bins in the study: no figure")
        return
    datasets = list(dict.fromkeys(t["dataset"]))
    models = list(dict.fromkeys(t["model"]))
    colours = dict(zip(models, sns.color_palette("colorblind", len(models)), strict=True))
    fmr = float(t["fmr"].iloc[0])
    fig, axes = plt.subplots(
        len(FIGURES),
        len(datasets),
        figsize=(3.6 * len(datasets) + 1.2, 6.2),
        squeeze=False,
        sharey="row",
    )
    dodge = np.linspace(-0.12, 0.12, len(models)) if len(models) > 1 else np.zeros(1)
    for j, dataset in enumerate(datasets):
        d = t[t["dataset"] == dataset]
        labels = list(dict.fromkeys(d["label"]))
        x_of = {b: k for k, b in enumerate(labels)}
        for i, (fig_col, name) in enumerate(FIGURES):
            ax = axes[i, j]
            for k, model in enumerate(models):
                m = d[d["model"] == model]
                if m.empty:
                    continue
                x = m["label"].map(x_of).to_numpy(dtype=float) + dodge[k]
                y = pd.to_numeric(m[fig_col]).to_numpy(dtype=float)
                lo = pd.to_numeric(m[f"{fig_col}_lo"]).to_numpy(dtype=float)
                hi = pd.to_numeric(m[f"{fig_col}_hi"]).to_numpy(dtype=float)
                err = np.vstack([y - lo, hi - y])
                ax.errorbar(
                    x, y, yerr=err, marker="o", ms=4, capsize=2, color=colours[model], label=model
                )
            ax.set_xticks(range(len(labels)), labels)
            ax.grid(alpha=0.3)
            if i == 0:
                ax.set_title(dataset)
            if i == len(FIGURES) - 1:
                ax.set_xlabel("age gap (years)")
            if j == 0:
                ax.set_ylabel(name if fig_col == "auc" else f"{name} at FMR {fmr:g}")
    handles, names = axes[0, 0].get_legend_handles_labels()
    for ax in axes.flat:  # a model missing from the first panel still gets its legend entry
        for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
            if n not in names:
                handles.append(h)
                names.append(n)
    fig.legend(handles, names, loc="center right", title="model")
    fig.suptitle("AUC and FNMR against the age gap, per dataset (95 % subject bootstrap)")
    fig.tight_layout(rect=(0, 0, 1 - 1.1 / fig.get_figwidth(), 1))
    save_png(fig, path)


def plot_forest(differences: pd.DataFrame, path: str | os.PathLike, metric: str = "auc") -> None:
    d = differences[
        (differences["metric"] == metric)
        & differences["estimate"].notna()
        & differences["subset"].isin(["all", "gap_bin"])
    ].reset_index(drop=True)
    if d.empty:
        _empty(path, f"no paired {metric} difference in any dataset: no forest plot")
        return
    y = np.arange(len(d))[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(d) + 1.6))
    excl = (d["lo"] > 0) | (d["hi"] < 0)
    err = np.vstack([d["estimate"] - d["lo"], d["hi"] - d["estimate"]])
    ax.errorbar(d["estimate"], y, xerr=err, fmt="none", ecolor="0.4", capsize=2)
    ax.scatter(d["estimate"], y, c=np.where(excl, "C3", "C0"), zorder=3, s=18)
    ax.axvline(0, ls="--", c="0.5")
    ax.set_yticks(
        y,
        [
            f"{r.dataset}: {r.model_a} - {r.model_b}, {r.label} ({_p_label(r.p_text)})"
            for r in d.itertuples()
        ],
        fontsize=8,
    )
    starts = d.index[d["dataset"] != d["dataset"].shift()].to_numpy()
    for s in starts[1:]:  # a line between datasets
        ax.axhline(y[s] + 0.5, c="0.8", lw=0.8)
    ax.set_xlabel(f"{metric.upper()} difference A - B (paired, common pairs of each dataset)")
    ax.set_title(
        "Paired model differences per dataset (95 % paired subject bootstrap; red: excludes 0)",
        fontsize=10,
    )
    fig.tight_layout()
    save_png(fig, path)
