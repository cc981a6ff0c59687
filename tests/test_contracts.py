"""The stage contract: tables and embeddings round-trip; writes are atomic."""

import numpy as np
import pandas as pd
import pytest

from faceage import contracts as c


def test_table_roundtrip_dtypes(tmp_path):
    df = pd.DataFrame(
        {
            "image_id": ["b", "a"],
            "path": ["x", "y"],
            "person": ["001", "002"],
            "age": [3, None],
            "gender": [None, "F"],
            "source": ["b", "a"],
            "shard": [0, 1],
        }
    )
    c.write_manifest(df, tmp_path / "m.tsv")
    back = c.read_manifest(tmp_path / "m.tsv")
    assert back["person"].tolist() == ["001", "002"]  # not turned into numbers
    assert str(back["age"].dtype) == "Int64" and pd.isna(back.loc[1, "age"])
    with pytest.raises(ValueError, match="lacks columns"):
        c.write_manifest(df.drop(columns="shard"), tmp_path / "bad.tsv")


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError):
        with c.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_embeddings_merge(tmp_path):
    def write(name, ids, dim=3):
        n = len(ids)
        c.write_embeddings(
            tmp_path / name,
            ids,
            np.arange(n * dim, dtype=np.float32).reshape(n, dim),
            ["ok"] * n,
            np.ones(n),
            np.zeros((n, 4)),
            np.ones(n),
        )

    write("s0.npz", ["c", "a"])
    write("s1.npz", ["b"])
    merged = c.merge_embeddings([tmp_path / "s0.npz", tmp_path / "s1.npz"], tmp_path / "all.npz")
    assert merged["image_id"].tolist() == ["a", "b", "c"]
    back = c.read_embeddings(tmp_path / "all.npz")
    np.testing.assert_array_equal(back["vectors"][0], [3, 4, 5])
    write("dup.npz", ["a"])
    with pytest.raises(ValueError, match="more than one shard"):
        c.merge_embeddings([tmp_path / "s0.npz", tmp_path / "dup.npz"], tmp_path / "x.npz")
