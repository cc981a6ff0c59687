"""Figures of the similarity analysis: similarity against age gap, its distributions, and the
PCA/t-SNE maps of the embeddings (:mod:`faceage.analysis.similarity`,
:mod:`faceage.analysis.projections`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from faceage.plots import PALETTE, save_png


def similarity_by_gap(by_gap: pd.DataFrame, path, min_pairs: int = 5) -> None:
    """Mean cosine similarity (band: +-1 sd) against age gap, genuine vs impostor.

    One panel per model.
    """
    models = list(dict.fromkeys(by_gap["model"]))
    fig, axes = plt.subplots(
        1, max(1, len(models)), figsize=(5 * max(1, len(models)), 4), sharey=True, squeeze=False
    )
    for ax, model in zip(axes[0], models, strict=False):
        t = by_gap[(by_gap["model"] == model) & (by_gap["n"] >= min_pairs)]
        for kind, colour in PALETTE.items():
            k = t[t["pairs"] == kind].sort_values("age_gap")
            if k.empty:
                continue
            ax.plot(k["age_gap"], k["mean"], color=colour, label=kind)
            sd = k["std"].fillna(0)
            ax.fill_between(
                k["age_gap"], k["mean"] - sd, k["mean"] + sd, color=colour, alpha=0.2, linewidth=0
            )
        ax.set_title(model)
        ax.set_xlabel("age gap (years)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("cosine similarity (mean, band = 1 sd)")
    axes[0][0].legend(title="pairs")
    fig.suptitle(f"Similarity against age gap (gaps with at least {min_pairs} pairs)")
    save_png(fig, path)


def similarity_distributions(scores: dict[str, pd.DataFrame], path) -> None:
    """Histograms of genuine and impostor similarity, one panel per model."""
    models = list(scores)
    fig, axes = plt.subplots(
        1, max(1, len(models)), figsize=(5 * max(1, len(models)), 3.6), squeeze=False
    )
    for ax, model in zip(axes[0], models, strict=False):
        # 60 bins over the scores' range, counted here: seaborn draws the counts (weights), so
        # millions of pairs cost a histogram, not a copy of the table
        sim = scores[model]["similarity"].to_numpy(dtype=float)
        gen = scores[model]["genuine"].to_numpy(dtype=int, na_value=0) == 1
        ok = np.isfinite(sim)
        ax.set_title(model)
        ax.set_xlabel("cosine similarity")
        if not ok.any():
            ax.text(0.5, 0.5, "no scored pairs", ha="center", transform=ax.transAxes)
            continue
        edges = np.histogram_bin_edges(sim[ok], bins=60)
        hist = pd.concat(
            [
                pd.DataFrame(
                    {
                        "similarity": (edges[:-1] + edges[1:]) / 2,
                        "n": np.histogram(sim[ok & mask], bins=edges)[0],
                        "pairs": name,
                    }
                )
                for name, mask in (("genuine", gen), ("impostor", ~gen))
                if (ok & mask).any()
            ],
            ignore_index=True,
        )
        sns.histplot(
            data=hist,
            x="similarity",
            weights="n",
            hue="pairs",
            palette=PALETTE,
            stat="density",
            common_norm=False,
            element="step",
            bins=list(edges),  # a list: seaborn compares bins with "auto"
            ax=ax,
        )
    save_png(fig, path)


def projection_grid(proj: pd.DataFrame, model: str, ranges: list[str], path) -> None:
    """PCA and t-SNE maps (all images, balanced resample) and per-person trajectories."""
    palette = dict(zip(ranges, sns.color_palette("viridis", len(ranges)), strict=True))
    main_views = [v for v in ("all", "balanced") if v in set(proj["view"])]
    person_views = [v for v in dict.fromkeys(proj["view"]) if v.startswith("person ")]
    ncols = max(2, len(person_views) or 1)
    nrows = len(main_views) + (1 if person_views else 0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.4 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.set_visible(False)
    for r, view in enumerate(main_views):
        for c, method in enumerate(("pca", "tsne")):
            t = proj[(proj["view"] == view) & (proj["method"] == method)]
            ax = axes[r][c]
            ax.set_visible(True)
            sns.scatterplot(
                data=t,
                x="x",
                y="y",
                hue="age_range",
                hue_order=[x for x in ranges if x in set(t["age_range"])],
                palette=palette,
                s=10,
                linewidth=0,
                ax=ax,
                legend=(r == 0 and c == 1),
            )
            ax.set_title(f"{method.upper()}, {view} ({len(t)} images)", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("")
            ax.set_ylabel("")
            if r == 0 and c == 1 and ax.get_legend():
                ax.legend(
                    title="age range",
                    fontsize=7,
                    title_fontsize=8,
                    bbox_to_anchor=(1.02, 1),
                    loc="upper left",
                )
    if person_views:
        background = proj[(proj["view"] == "all") & (proj["method"] == "pca")]
        for c, view in enumerate(person_views):
            ax = axes[nrows - 1][c]
            ax.set_visible(True)
            ax.scatter(background["x"], background["y"], s=3, color="0.85", linewidth=0)
            t = proj[proj["view"] == view].sort_values("age", kind="stable")
            ax.plot(t["x"], t["y"], color="0.4", linewidth=0.8)
            sc = ax.scatter(t["x"], t["y"], c=t["age"], cmap="viridis", s=22, zorder=3)
            ax.set_title(f"{view}: ages {t['age'].min()}-{t['age'].max()}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(sc, ax=axes[nrows - 1].tolist(), shrink=0.8, label="age (years)")
    fig.suptitle(f"{model}: embeddings coloured by age range")
    save_png(fig, path)
