"""Scores: cosine similarity per pair, vectorised, NaN where an embedding is missing."""

import numpy as np
import pandas as pd
from sklearn.metrics.pairwise import cosine_similarity

from faceage.scores import score_pairs


def test_scores_equal_sklearn_cosine_and_handle_missing():
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(6, 8)).astype(np.float32)
    vecs[4] = np.nan  # image without an embedding
    ids = np.array([f"i{k}" for k in range(6)])
    pairs = pd.DataFrame(
        {"image_a": ["i0", "i1", "i2", "i4", "i0"], "image_b": ["i1", "i3", "i5", "i0", "zz"]}
    )
    s = score_pairs(pairs, ids, vecs)["similarity"].to_numpy()
    ref = cosine_similarity(vecs[[0, 1, 2]], vecs[[1, 3, 5]]).diagonal()
    np.testing.assert_allclose(s[:3], ref, rtol=1e-5)
    assert np.isnan(s[3]) and np.isnan(s[4])


def test_scale_invariant_and_hand_value():
    ids = np.array(["a", "b"])
    vecs = np.array([[1.0, 0.0], [3.0, 3.0]], dtype=np.float32)
    pairs = pd.DataFrame({"image_a": ["a"], "image_b": ["b"]})
    assert abs(score_pairs(pairs, ids, vecs)["similarity"][0] - 1 / np.sqrt(2)) < 1e-6
