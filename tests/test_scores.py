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


def test_scores_step_streams_batches_and_equals_scoring_the_whole_table(tmp_path, monkeypatch):
    from faceage import contracts as c
    from faceage.contracts import tables
    from faceage.pairs import make_pairs
    from faceage.steps import run

    monkeypatch.setattr(tables, "BATCH_ROWS", 25)
    rng = np.random.default_rng(2)
    clean = pd.DataFrame(
        {
            "image_id": [f"p{p}_{k}" for p in range(6) for k in range(5)],
            "person": [f"p{p}" for p in range(6) for _ in range(5)],
            "age": rng.integers(1, 40, 30),
        }
    )
    pairs = make_pairs(clean)
    c.write_pairs(pairs, tmp_path / "pairs.parquet")
    ids = clean["image_id"].to_numpy()[:-2]  # two images without an embedding
    vecs = rng.normal(size=(len(ids), 8)).astype(np.float32)
    n = len(ids)
    box = np.full((n, 4), np.nan)
    c.write_embeddings(
        tmp_path / "e.npz", ids, vecs, [c.STATUS_OK] * n, np.full(n, -1), box, np.full(n, np.nan)
    )
    run(
        "scores",
        input={"pairs": str(tmp_path / "pairs.parquet"), "embeddings": str(tmp_path / "e.npz")},
        output={"scores": str(tmp_path / "s.parquet")},
    )
    got = c.read_table(tmp_path / "s.parquet")
    want = score_pairs(c.read_pairs(tmp_path / "pairs.parquet"), ids, vecs)
    assert len(pairs) > 3 * 25 and list(got.columns) == c.SCORE_COLUMNS + ["fold"]
    np.testing.assert_allclose(got["similarity"], c.six_digits(want["similarity"]), rtol=0)
    assert got["similarity"].isna().sum() == want["similarity"].isna().sum() > 0
    pd.testing.assert_frame_equal(
        got.drop(columns="similarity"), c.read_pairs(tmp_path / "pairs.parquet")
    )
