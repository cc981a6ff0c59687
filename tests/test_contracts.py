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


def _scores_frame(n=500, seed=0):
    rng = np.random.default_rng(seed)
    age_a = rng.integers(0, 60, n)
    gap = rng.integers(0, 20, n)
    sim = rng.normal(0.3, 0.2, n)
    sim[::17] = np.nan  # unscored pairs
    return pd.DataFrame(
        {
            "pair_id": np.arange(n),
            "image_a": [f"p{i % 7:03d}/{i}.jpg" for i in range(n)],
            "image_b": [f"p{i % 5:03d}/{i + 1}.jpg" for i in range(n)],
            "person_a": [f"{i % 7:03d}" for i in range(n)],
            "person_b": [f"{i % 5:03d}" for i in range(n)],
            "genuine": (np.arange(n) % 2).astype(int),
            "age_a": age_a,
            "age_b": age_a + gap,
            "age_gap": gap,
            "range_a": ["0-10"] * n,
            "range_b": ["11-20"] * n,
            "fold": pd.array([k % 10 if k % 13 else None for k in range(n)], dtype="Int64"),
            "similarity": sim,
        }
    )


def test_parquet_roundtrip_keeps_dtypes_order_and_the_tsv_values(tmp_path):
    df = _scores_frame()
    c.write_table(df, tmp_path / "s.parquet", c.SCORE_COLUMNS)
    c.write_table(df, tmp_path / "s.tsv", c.SCORE_COLUMNS)
    pq, tsv = c.read_table(tmp_path / "s.parquet"), c.read_table(tmp_path / "s.tsv")
    assert list(pq.columns) == list(tsv.columns) == c.SCORE_COLUMNS + ["fold"]
    assert pq["pair_id"].tolist() == df["pair_id"].tolist()  # order kept
    # the same dtypes and the same values as the TSV reader gives (floats to 6 digits)
    pd.testing.assert_frame_equal(pq, tsv)
    assert str(pq["person_a"].dtype) == "string" and pq["person_a"].iloc[0] == "000"
    assert str(pq["fold"].dtype) == "Int64" and pq["fold"].isna().sum() == df["fold"].isna().sum()
    assert pq["similarity"].isna().sum() == np.isnan(df["similarity"]).sum()
    # column by column
    two = c.read_table(tmp_path / "s.parquet", c.SCORE_COLUMNS, only=["genuine", "similarity"])
    assert list(two.columns) == ["genuine", "similarity"]


def test_tsv_export_equals_the_tsv_writer_byte_for_byte(tmp_path, monkeypatch):
    from faceage.contracts import tables

    monkeypatch.setattr(tables, "BATCH_ROWS", 64)  # exported in 8 batches
    df = _scores_frame(seed=3)
    c.write_table(df, tmp_path / "s.parquet", c.SCORE_COLUMNS)
    c.write_table(df, tmp_path / "direct.tsv", c.SCORE_COLUMNS)
    c.export_tsv(tmp_path / "s.parquet", tmp_path / "export.tsv")
    assert (tmp_path / "export.tsv").read_bytes() == (tmp_path / "direct.tsv").read_bytes()
    c.write_table(df.iloc[:0], tmp_path / "e.parquet", c.SCORE_COLUMNS)
    c.write_table(df.iloc[:0], tmp_path / "e.tsv", c.SCORE_COLUMNS)
    c.export_tsv(tmp_path / "e.parquet", tmp_path / "e_export.tsv")
    assert (tmp_path / "e_export.tsv").read_bytes() == (tmp_path / "e.tsv").read_bytes()


def test_six_digits_matches_the_tsv_format():
    x = np.array([0.123456789, -3.14159265, 1e-7 * 1.2345678, 123456.789, 0.0, np.nan, 1.0])
    want = np.array([float(f"{v:.6g}") if np.isfinite(v) else np.nan for v in x])
    np.testing.assert_array_equal(c.six_digits(x), want)


def test_compact_read_has_the_values_of_read_table_in_small_types(tmp_path, monkeypatch):
    from faceage.contracts import tables

    monkeypatch.setattr(tables, "BATCH_ROWS", 64)  # several row groups and batches
    df = _scores_frame(n=500, seed=5)
    df.loc[3, "range_b"] = None  # a missing text
    path = tmp_path / "s.parquet"
    c.write_table(df, path, c.SCORE_COLUMNS)
    full, small = c.read_table(path), c.read_compact(path)
    assert list(small.columns) == list(full.columns)
    for col in ("image_a", "person_a", "person_b", "range_a", "range_b"):
        assert isinstance(small[col].dtype, pd.CategoricalDtype), col
    # x_a and x_b share one sorted list of names, so their codes compare
    assert list(small["person_a"].cat.categories) == list(small["person_b"].cat.categories)
    assert list(small["person_a"].cat.categories) == sorted(
        set(df["person_a"]) | set(df["person_b"])
    )
    assert small["pair_id"].dtype == np.int32 and small["genuine"].dtype == np.int32
    assert (
        str(small["fold"].dtype) == "Int64"
        and small["fold"].isna().sum() == full["fold"].isna().sum()
    )
    assert small["similarity"].dtype == np.float64
    as_text = small.astype(
        {k: "string" for k in small.columns if k not in full.select_dtypes("number")}
    )
    pd.testing.assert_frame_equal(as_text, full, check_dtype=False)
    two = c.read_compact(path, ["similarity", "genuine", "nope"])
    assert list(two.columns) == ["similarity", "genuine"]
    # a TSV reads to the same compact frame
    c.write_table(df, tmp_path / "s.tsv", c.SCORE_COLUMNS)
    pd.testing.assert_frame_equal(c.read_compact(tmp_path / "s.tsv"), small, check_dtype=False)


def test_streamed_parquet_equals_one_write_and_iterates_back(tmp_path, monkeypatch):
    from faceage.contracts import tables

    monkeypatch.setattr(tables, "BATCH_ROWS", 100)
    df = _scores_frame(n=450, seed=6)
    one, parts = tmp_path / "one.parquet", tmp_path / "parts.parquet"
    c.write_table(df, one, c.SCORE_COLUMNS)
    cats = df.astype({k: "category" for k in ("image_a", "image_b", "person_a", "range_a")})
    with c.parquet_writer(parts, c.SCORE_COLUMNS) as write:
        for start in range(0, len(df), 100):  # batches with their own categories
            write(cats.iloc[start : start + 100][c.SCORE_COLUMNS + ["fold"]])
    pd.testing.assert_frame_equal(c.read_table(parts), c.read_table(one))
    batches = list(c.iter_table(parts, c.SCORE_COLUMNS))
    assert [len(b) for b in batches] == [100, 100, 100, 100, 50]
    back = pd.concat(batches, ignore_index=True).astype({"image_a": "string"})
    assert back["image_a"].tolist() == df["image_a"].tolist()
    with pytest.raises(ValueError, match="lacks columns"):
        next(c.iter_table(parts, ["nope"]))
    with c.parquet_writer(tmp_path / "empty.parquet", c.SCORE_COLUMNS):
        pass  # no batch: the empty table with the columns
    assert list(c.read_table(tmp_path / "empty.parquet").columns) == c.SCORE_COLUMNS
