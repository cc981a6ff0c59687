"""PCA and t-SNE maps of the embeddings, coloured by age range.

Three views per model: all images; a resample balanced across age ranges
(the same number of images from every range, so large ranges do not crowd
out small ones); and the persons with the most images, one panel each, on
the all-images PCA map, their images joined in age order. Coordinates are
returned as a table; plotting is in :mod:`faceage.plots.similarity`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from faceage.bins import bin_of as age_range
from faceage.scores import normalise


def embedding_frame(
    emb: dict, clean: pd.DataFrame, bins: list[int]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Images with a vector, joined to their labels; returns (labels, unit vectors)."""
    ok = emb["status"] == "ok"
    ids = emb["image_id"][ok]
    unit = normalise(emb["vectors"][ok])
    labels = clean.set_index("image_id").reindex(ids)[["person", "age"]].reset_index()
    keep = labels["age"].notna().to_numpy()
    labels = labels[keep].reset_index(drop=True)
    labels["age_range"] = age_range(labels["age"].to_numpy(dtype=float), bins)
    return labels, unit[keep]


def balanced_sample(labels: pd.DataFrame, per_range: int, seed: int) -> np.ndarray:
    """Row positions: at most ``per_range`` images from every age range.

    The smallest range sets it.
    """
    counts = labels.groupby("age_range").size()
    if counts.empty:
        return np.array([], dtype=int)
    n = int(min(per_range, counts.min()))
    rng = np.random.default_rng(seed)
    picks = []
    for _, idx in sorted(labels.groupby("age_range").indices.items()):
        picks.append(np.sort(rng.choice(idx, size=n, replace=False)))
    return np.sort(np.concatenate(picks))


def project(unit: np.ndarray, method: str, seed: int, perplexity: float = 30.0) -> np.ndarray:
    if len(unit) < 3:
        return np.full((len(unit), 2), np.nan)
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(unit)
    perp = float(min(perplexity, max(2.0, (len(unit) - 1) / 3)))
    return TSNE(
        n_components=2, perplexity=perp, init="pca", random_state=seed, max_iter=1000
    ).fit_transform(unit)


def projections(
    emb: dict,
    clean: pd.DataFrame,
    bins: list[int],
    *,
    seed: int = 0,
    balanced_per_range: int = 50,
    tsne_max_images: int = 3000,
    persons: int = 6,
    perplexity: float = 30.0,
) -> pd.DataFrame:
    """Long table: image_id, person, age, age_range, view, method, x, y."""
    labels, unit = embedding_frame(emb, clean, bins)
    rng = np.random.default_rng(seed)
    out = []

    def add(view, method, rows, xy):
        t = labels.iloc[rows].copy()
        t["view"], t["method"] = view, method
        t["x"], t["y"] = xy[:, 0], xy[:, 1]
        out.append(t)

    all_rows = np.arange(len(labels))
    pca_all = project(unit, "pca", seed)
    add("all", "pca", all_rows, pca_all)
    tsne_rows = (
        all_rows
        if len(all_rows) <= tsne_max_images
        else np.sort(rng.choice(all_rows, tsne_max_images, replace=False))
    )
    add("all", "tsne", tsne_rows, project(unit[tsne_rows], "tsne", seed, perplexity))
    bal = balanced_sample(labels, balanced_per_range, seed)
    if len(bal) >= 3:
        add("balanced", "pca", bal, project(unit[bal], "pca", seed))
        add("balanced", "tsne", bal, project(unit[bal], "tsne", seed, perplexity))
    top = labels.groupby("person").size().sort_values(ascending=False, kind="stable")
    for person in sorted(top.index[:persons], key=lambda p: (-top[p], p)):
        rows = np.flatnonzero(labels["person"].to_numpy() == person)
        rows = rows[np.argsort(labels["age"].to_numpy()[rows], kind="stable")]
        add(f"person {person}", "pca", rows, pca_all[rows])
    res = pd.concat(out, ignore_index=True)
    return res[["image_id", "person", "age", "age_range", "view", "method", "x", "y"]]
