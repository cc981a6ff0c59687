"""The scores stage: cosine similarity for every pair, vectorised.

Similarity, not distance: ``cos(a, b) = a.b / (|a| |b|)`` in [-1, 1], higher
means more alike. Each embedding is normalised once; a pair's score is then
a row-wise dot product, computed in chunks so memory stays bounded however
many pairs there are. Pairs with an image that has no embedding get NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Pairs per chunk: small enough that both gathered blocks (2 x 4096 x D floats)
# stay in the CPU cache; measured fastest on 128-d vectors (docs/performance.md).
CHUNK = 4096


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero or NaN rows become NaN)."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = v / norms
    out[~np.isfinite(norms[:, 0]) | (norms[:, 0] == 0)] = np.nan
    return out


def cosine_similarity_pairs(unit: np.ndarray, idx_a: np.ndarray, idx_b: np.ndarray) -> np.ndarray:
    """Cosine similarity of rows ``idx_a[k]`` and ``idx_b[k]`` of unit vectors ``unit``.

    Indices of -1 mean "no embedding" and give NaN.
    """
    n = len(idx_a)
    out = np.full(n, np.nan, dtype=np.float32)
    ok = (idx_a >= 0) & (idx_b >= 0)
    pos = np.flatnonzero(ok)
    unit = np.ascontiguousarray(unit, dtype=np.float32)
    for start in range(0, len(pos), CHUNK):
        p = pos[start : start + CHUNK]
        out[p] = np.einsum("ij,ij->i", unit.take(idx_a[p], axis=0), unit.take(idx_b[p], axis=0))
    return out


class Scorer:
    """Cosine similarity of pairs of images by id, from one model's embeddings (each vector
    normalised once)."""

    def __init__(self, image_id: np.ndarray, vectors: np.ndarray):
        self.unit = normalise(vectors)
        n = len(image_id)
        self.valid = np.isfinite(self.unit).all(axis=1) if self.unit.size else np.zeros(n, bool)
        self.index = pd.Index(np.asarray(image_id, dtype=str))

    def _rows(self, ids: pd.Series) -> np.ndarray:
        """Embedding row of each image id (-1: unknown, or known without a vector)."""
        if isinstance(ids.dtype, pd.CategoricalDtype):  # look each id up once
            at = self.index.get_indexer(ids.cat.categories.astype(str))
            codes = ids.cat.codes.to_numpy()
            pos = np.where(codes >= 0, at[np.maximum(codes, 0)], -1)
        else:
            pos = self.index.get_indexer(ids.astype(object))
        pos[(pos >= 0) & ~self.valid[np.maximum(pos, 0)]] = -1
        return pos.astype(np.int64)

    def __call__(self, pairs: pd.DataFrame) -> np.ndarray:
        """The similarity of each pair (NaN where an embedding is missing), float64."""
        a, b = self._rows(pairs["image_a"]), self._rows(pairs["image_b"])
        return cosine_similarity_pairs(self.unit, a, b).astype(np.float64)


def score_pairs(pairs: pd.DataFrame, image_id: np.ndarray, vectors: np.ndarray) -> pd.DataFrame:
    """The pairs table with a ``similarity`` column (NaN where an embedding is missing)."""
    out = pairs.copy()
    out["similarity"] = Scorer(image_id, vectors)(pairs)
    return out
