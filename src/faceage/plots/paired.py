"""Figures of the paired model comparison (matplotlib, Agg backend, PNG; no face pixels).

* :func:`plot_forest` - per model pair, the AUC difference A - B per age-gap bin with its
  paired 95 % interval (a forest plot; the dashed line is "no difference");
* :func:`plot_fnmr_by_gap` - FNMR against the age gap at each model's deployed threshold
  (one FMR level), log scale, 95 % bands;
* :func:`plot_fnmr_by_year` - the same per year of gap (the years with enough pairs);
* :func:`plot_failure_to_enrol` - share of images without an embedding per age range.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from faceage.plots import save_png  # noqa: E402


def _empty(path, text: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    save_png(fig, path)


def _p_label(text) -> str:
    """``p < 0.001`` or ``p = 0.034`` (the bootstrap's own statement, never ``p=0``)."""
    text = "" if pd.isna(text) else str(text)
    if not text:
        return "p n/a"
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def plot_forest(differences: pd.DataFrame, path: str | os.PathLike, metric: str = "auc") -> None:
    d = differences[(differences["metric"] == metric) & differences["estimate"].notna()]
    d = d[d["subset"].isin(["all", "gap_bin"])]
    if d.empty:
        _empty(path, "one model only, or no difference estimable: no forest plot")
        return
    pairs = list(dict.fromkeys(zip(d["model_a"], d["model_b"], strict=True)))
    fig, axes = plt.subplots(
        1, len(pairs), figsize=(4.2 * len(pairs), 0.45 * d["label"].nunique() + 1.6), squeeze=False
    )
    for ax, (a, b) in zip(axes[0], pairs, strict=True):
        t = d[(d["model_a"] == a) & (d["model_b"] == b)].reset_index(drop=True)
        y = np.arange(len(t))[::-1]
        err = np.vstack([t["estimate"] - t["lo"], t["hi"] - t["estimate"]])
        excl = (t["lo"] > 0) | (t["hi"] < 0)
        ax.errorbar(t["estimate"], y, xerr=err, fmt="none", ecolor="0.4", capsize=3)
        ax.scatter(t["estimate"], y, c=np.where(excl, "C3", "C0"), zorder=3)
        ax.axvline(0, ls="--", c="0.5")
        ax.set_yticks(
            y, [f"{lab}  ({_p_label(p)})" for lab, p in zip(t["label"], t["p_text"], strict=True)]
        )
        ax.set_xlabel(f"{metric.upper()} {a} - {b}")
        ax.set_title(f"{a} vs {b}", fontsize=10)
    fig.suptitle("Paired differences per age gap (95 % paired subject bootstrap; red: excludes 0)")
    fig.tight_layout()
    save_png(fig, path)


def _none_estimable(fnmr: pd.DataFrame) -> str:
    n = int(fnmr["n_impostor"].max()) if len(fnmr) else 0
    return (
        f"no FMR level estimable on {n} impostor pairs (FMR f needs 10/f): "
        "raise comparisons.operating_impostors"
    )


def _rests_on(t: pd.DataFrame) -> str:
    """What the thresholds rest on, for a title: '466,377 impostor pairs (operating pool)'."""
    n = sorted({int(x) for x in t["n_impostor"]})
    where = f" ({t['impostors'].iloc[0]})" if "impostors" in t and len(t) else ""
    return " / ".join(f"{x:,}" for x in n) + " impostor pairs" + where


def plot_fnmr_by_gap(fnmr: pd.DataFrame, path: str | os.PathLike) -> None:
    t = fnmr[(fnmr["gap_bin"] != "all") & fnmr["fnmr"].notna()]
    if t.empty:
        _empty(path, _none_estimable(fnmr))
        return
    fmr = t["fmr"].max()  # the largest estimable level: the one most pairs support
    t = t[t["fmr"] == fmr]
    order = list(dict.fromkeys(fnmr.loc[fnmr["gap_bin"] != "all", "gap_bin"]))
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for model, m in t.groupby("model", sort=False):
        m = m.set_index("gap_bin").reindex(order)
        x = np.arange(len(order))
        floor = 1e-4
        ax.plot(x, m["fnmr"].clip(lower=floor), marker="o", label=model)
        ax.fill_between(
            x, m["fnmr_lo"].clip(lower=floor), m["fnmr_hi"].clip(lower=floor), alpha=0.2
        )
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(order)), order)
    ax.set_xlabel("age gap (years)")
    ax.set_ylabel(f"FNMR at the threshold for FMR = {fmr:g}")
    ax.legend()
    ax.set_title(
        "How often the same person is missed, at a deployed threshold\n"
        f"threshold set on {_rests_on(t)}; 95 % subject bootstrap",
        fontsize=9,
    )
    fig.tight_layout()
    save_png(fig, path)


def plot_fnmr_by_year(fnmr: pd.DataFrame, path: str | os.PathLike) -> None:
    """FNMR against the gap in years (the years with enough genuine pairs), log scale."""
    t = fnmr[(fnmr["gap_bin"] != "all") & fnmr["fnmr"].notna()]
    if t.empty:
        _empty(path, "no year of gap with enough genuine pairs; " + _none_estimable(fnmr))
        return
    fmr = t["fmr"].max()
    t = t[t["fmr"] == fmr]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    floor = 1e-4
    for model, m in t.groupby("model", sort=False):
        m = m.assign(year=m["gap_bin"].astype(int)).sort_values("year")
        ax.plot(m["year"], m["fnmr"].clip(lower=floor), marker=".", label=model)
        ax.fill_between(
            m["year"], m["fnmr_lo"].clip(lower=floor), m["fnmr_hi"].clip(lower=floor), alpha=0.15
        )
    ax.set_yscale("log")
    ax.set_xlabel("age gap (years)")
    ax.set_ylabel(f"FNMR at the threshold for FMR = {fmr:g}")
    ax.legend()
    ax.set_title(
        "Missed at a deployed threshold, per year of gap\n"
        f"threshold set on {_rests_on(t)}; 95 % subject bootstrap",
        fontsize=9,
    )
    fig.tight_layout()
    save_png(fig, path)


def plot_failure_to_enrol(fte: pd.DataFrame, path: str | os.PathLike) -> None:
    t = fte[~fte["age_range"].isin(["all", "unknown"])]
    if t.empty or t["n_images"].sum() == 0:
        _empty(path, "no images with ages")
        return
    order = list(dict.fromkeys(t["age_range"]))
    models = list(dict.fromkeys(t["model"]))
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(7, 4))
    for k, model in enumerate(models):
        m = t[t["model"] == model].set_index("age_range").reindex(order)
        x = np.arange(len(order)) + (k - (len(models) - 1) / 2) * width
        share = m["fte"].fillna(0)
        err = np.vstack([share - m["fte_lo"].fillna(0), m["fte_hi"].fillna(0) - share])
        ax.bar(x, share, width, yerr=err, capsize=2, label=model)
    ax.set_xticks(np.arange(len(order)), order)
    ax.set_xlabel("age range (years)")
    ax.set_ylabel("share of images not enrolled")
    ax.legend()
    ax.set_title("Failure to enrol by age (95 % Wilson intervals)")
    fig.tight_layout()
    save_png(fig, path)
