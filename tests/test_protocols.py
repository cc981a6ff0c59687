"""Protocol parsers on tiny fixture files in each format, name matching, and evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.io import savemat

from faceage.analysis import protocols as pr
from faceage.analysis.verification import insightface_accuracy


def agedb_names(k, n):
    """Names like AgeDB's protocol files: <n>_<Name>_<age>_<g>, no .jpg."""
    a = [f"{100 * k + i}_Person{k}x{i}_{20 + i}_m" for i in range(n)]
    b = [f"{100 * k + i + 50}_Person{k}x{i}_{50 + i}_m" for i in range(n)]
    return a, b


def write_agedb_mat(path, n_splits=10, n=6):
    """A .mat shaped like 04_FINAL_protocol_30_years.mat: splits(10,1).<f>.{pairs(2,n){name,age}, flag(1,n)}."""
    splits = np.zeros((n_splits, 1), dtype=[("fold", "O")])
    labels_all = []
    for k in range(n_splits):
        a, b = agedb_names(k, n)
        pairs = np.zeros((2, n), dtype=[("name", "O"), ("age", "O")])
        for i in range(n):
            pairs[0, i] = (a[i], 20 + i)
            pairs[1, i] = (b[i], 50 + i)
        labels = np.where(np.arange(n) % 2 == 0, 1, -1)
        labels_all.append(labels)
        fold = np.zeros((1, 1), dtype=[("pairs", "O"), ("flag", "O")])
        fold[0, 0] = (pairs, labels.reshape(1, n).astype(float))
        splits[k, 0] = (fold,)
    savemat(path, {"splits": splits})
    return labels_all


def test_agedb_mat(tmp_path):
    labels = write_agedb_mat(tmp_path / "04_FINAL_protocol_30_years.mat")
    df = pr.read_protocol(tmp_path / "04_FINAL_protocol_30_years.mat", "agedb_mat")
    assert list(df.columns) == pr.PROTOCOL_COLUMNS
    assert len(df) == 60 and sorted(df["fold"].unique()) == list(range(10))
    assert (
        df.loc[0, "image_a"] == "0_Person0x0_20_m" and df.loc[0, "image_b"] == "50_Person0x0_50_m"
    )
    assert df.loc[7, "image_a"] == "101_Person1x1_21_m" and df.loc[7, "fold"] == 1
    np.testing.assert_array_equal(df["genuine"], (np.concatenate(labels) == 1).astype(int))


def test_agedb_mat_two_name_lists_and_cellstr(tmp_path):
    """The parser reads the names whatever the struct's field names, also as two cell lists."""
    splits = np.zeros((10, 1), dtype=[("first", "O"), ("second", "O"), ("label", "O")])
    for k in range(10):
        a, b = agedb_names(k, 4)
        splits[k, 0] = (
            np.array(a, dtype=object),
            np.array(b, dtype=object),
            np.array([[1, -1, -1, 1]]),
        )
    savemat(tmp_path / "p.mat", {"splits": splits})
    df = pr.read_agedb_mat(tmp_path / "p.mat")
    assert len(df) == 40 and df["genuine"].tolist()[:4] == [1, 0, 0, 1]
    assert df.loc[5, "image_b"] == "151_Person1x1_51_m"


def test_agedb_mat_errors(tmp_path):
    savemat(tmp_path / "x.mat", {"other": np.arange(3)})
    with pytest.raises(pr.ProtocolError, match="no variable 'splits'"):
        pr.read_agedb_mat(tmp_path / "x.mat")
    with pytest.raises(FileNotFoundError):
        pr.read_protocol(tmp_path / "missing.mat", "agedb_mat")
    with pytest.raises(ValueError, match="unknown protocol format"):
        pr.read_protocol(tmp_path / "x.mat", "nope")


def test_lfw_pairs(tmp_path):
    lines = ["2\t2", "Abel_Pacheco\t1\t4", "Akhmed_Zakayev\t1\t3", "Abdel_Madi_Shabneh\t1\tDean_Barker\t1",
             "Abdel_Madi_Shabneh\t1\tGiancarlo_Fisichella\t1", "Ann_V\t2\t3", "Ann_V\t1\t2",
             "Bob\t1\tCarl\t12", "Bob\t2\tDan\t1"]  # fmt: skip
    (tmp_path / "pairs.txt").write_text("\n".join(lines) + "\n")
    df = pr.read_protocol(tmp_path / "pairs.txt", "lfw")
    assert len(df) == 8
    assert df.loc[0, "image_a"] == "Abel_Pacheco/Abel_Pacheco_0001.jpg"
    assert df.loc[0, "image_b"] == "Abel_Pacheco/Abel_Pacheco_0004.jpg"
    assert df.loc[2, "image_b"] == "Dean_Barker/Dean_Barker_0001.jpg"
    assert df.loc[6, "image_b"] == "Carl/Carl_0012.jpg"
    assert df["genuine"].tolist() == [1, 1, 0, 0, 1, 1, 0, 0]
    assert df["fold"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    (tmp_path / "bad.txt").write_text("1 1\nA 1\n")
    with pytest.raises(pr.ProtocolError, match="3 or 4"):
        pr.read_lfw_pairs(tmp_path / "bad.txt")


@pytest.mark.parametrize("fmt", ["calfw", "cplfw"])
def test_calfw_cplfw_pairs(tmp_path, fmt):
    # 20 genuine then 20 impostor pairs; CALFW numbers genuine pairs, impostors are 0
    lines = []
    for i in range(20):
        lines += [f"Gen_{i}_0001.jpg {i + 1}", f"Gen_{i}_0002.jpg {i + 1}"]
    for i in range(20):
        lines += [f"ImpA_{i}_0001.jpg 0", f"ImpB_{i}_0001.jpg 0"]
    (tmp_path / f"pairs_{fmt}.txt").write_text("\n".join(lines) + "\n")
    df = pr.read_protocol(tmp_path / f"pairs_{fmt}.txt", fmt)
    assert len(df) == 40 and df["genuine"].sum() == 20
    assert df.loc[0, "image_a"] == "Gen_0_0001.jpg" and df.loc[0, "image_b"] == "Gen_0_0002.jpg"
    # fold k: the k-th tenth of each class (2 genuine + 2 impostor pairs here)
    assert df.groupby("fold")["genuine"].agg(["sum", "size"]).values.tolist() == [[2, 4]] * 10
    assert df.loc[[0, 1, 20, 21], "fold"].tolist() == [0, 0, 0, 0]
    assert df.loc[[39], "fold"].tolist() == [9]
    (tmp_path / "odd.txt").write_text("a.jpg 1\n")
    with pytest.raises(pr.ProtocolError, match="two per pair"):
        pr.read_calfw_pairs(tmp_path / "odd.txt")


def test_csv_protocol(tmp_path):
    (tmp_path / "p.csv").write_text(
        "image_a,image_b,same,fold\na.jpg,b.jpg,1,f1\nc.jpg,d.jpg,false,f2\n"
    )
    df = pr.read_protocol(tmp_path / "p.csv", "csv")
    assert df.values.tolist() == [["a.jpg", "b.jpg", 1, 0], ["c.jpg", "d.jpg", 0, 1]]
    # without folds: 10 contiguous blocks as insightface's KFold
    rows = "\n".join(f"x{i}.jpg,y{i}.jpg,{i % 2}" for i in range(23))
    (tmp_path / "q.csv").write_text("image_a,image_b,same\n" + rows + "\n")
    df = pr.read_csv_protocol(tmp_path / "q.csv")
    assert df["fold"].value_counts().sort_index().tolist() == [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]
    assert df["fold"].is_monotonic_increasing
    (tmp_path / "r.csv").write_text("image_a,image_b,same\na,b,maybe\n")
    with pytest.raises(pr.ProtocolError, match="maybe"):
        pr.read_csv_protocol(tmp_path / "r.csv")


def test_image_index_matches_names():
    ids = [
        "Abel_Pacheco/Abel_Pacheco_0001.jpg",
        "sub/0_MariaCallas_35_f.jpg",
        "x/dup.jpg",
        "y/dup.jpg",
    ]
    idx = pr.ImageIndex(ids)
    assert idx.find("Abel_Pacheco/Abel_Pacheco_0001.jpg") == ids[0]
    assert idx.find("Abel_Pacheco_0001.jpg") == ids[0]  # CALFW-style bare file name
    assert idx.find("0_MariaCallas_35_f") == ids[1]  # AgeDB: no .jpg
    assert idx.find("x/dup.jpg") == ids[2]  # exact path wins
    assert idx.find("dup.jpg") is None  # ambiguous file name
    assert idx.find("nobody.jpg") is None


def test_restrict_manifest_keeps_only_named_images():
    manifest = pd.DataFrame(
        {"image_id": ["a/1.jpg", "a/2.jpg", "b/3.jpg", "c/4.jpg"], "person": list("aabc")}
    )
    pairs = pd.DataFrame(
        {"image_a": ["1", "3"], "image_b": ["2", "missing"], "genuine": [1, 0], "fold": [0, 0]}
    )
    sub, missing = pr.restrict_manifest(manifest, pairs)
    assert sub["image_id"].tolist() == ["a/1.jpg", "a/2.jpg", "b/3.jpg"]
    assert missing == ["missing"]


def test_evaluate_protocol_uses_embeddings_and_insightface(tmp_path):
    rng = np.random.default_rng(0)
    n_pairs, dim = 200, 16
    persons = rng.normal(size=(n_pairs * 2, dim))
    names_a = [f"img_{i}_a" for i in range(n_pairs)]
    names_b = [f"img_{i}_b" for i in range(n_pairs)]
    genuine = (np.arange(n_pairs) % 2 == 0).astype(int)
    va = persons[:n_pairs]
    vb = np.where(genuine[:, None] == 1, va + rng.normal(0, 0.9, (n_pairs, dim)), persons[n_pairs:])
    ids = np.array([n + ".jpg" for n in names_a + names_b])
    vectors = np.vstack([va, vb]).astype(np.float32)
    vectors[5] = np.nan  # one image without a face
    emb = {"image_id": ids, "vectors": vectors}
    folds = np.arange(n_pairs) * 10 // n_pairs
    pairs = pd.DataFrame(
        {"image_a": names_a, "image_b": names_b, "genuine": genuine, "fold": folds}
    )
    per_fold, summary = pr.evaluate_protocol(pairs, emb)
    assert summary["n_pairs"] == 200 and summary["n_unscored"] == 1 and summary["n_folds"] == 10
    # the same accuracy from cosine similarities computed here
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sim = np.sum(unit[:n_pairs] * unit[n_pairs:], axis=1)
    ok = np.isfinite(sim)
    ref = insightface_accuracy(sim[ok], genuine[ok], folds[ok])
    assert summary["accuracy"] == pytest.approx(ref["acc_mean"])
    assert summary["accuracy_std"] == pytest.approx(ref["acc_std"])
    assert summary["accuracy_unscored_wrong"] < summary["accuracy"]
    assert per_fold["n_scored"].sum() == 199 and per_fold.loc[0, "n_pairs"] == 20
    assert 0.6 < summary["accuracy"] <= 1.0 and 0.6 < summary["auc"] <= 1.0


def test_write_protocol_evaluation(tmp_path):
    from faceage.contracts import write_embeddings

    labels = write_agedb_mat(tmp_path / "p.mat", n=6)
    df = pr.read_agedb_mat(tmp_path / "p.mat")
    names = pr.protocol_images(df)
    rng = np.random.default_rng(1)
    vec = rng.normal(size=(len(names), 8)).astype(np.float32)
    n = len(names)
    write_embeddings(tmp_path / "m.npz", [x + ".jpg" for x in names], vec, ["ok"] * n, np.full(n, 1),
                     np.zeros((n, 4)), np.ones(n))  # fmt: skip
    s = pr.write_protocol_evaluation(tmp_path / "p.mat", "agedb_mat", tmp_path / "m.npz", tmp_path / "folds.tsv",
                                     tmp_path / "summary.tsv", name="agedb30", model="m")  # fmt: skip
    assert s["n_scored"] == 60 and s["protocol"] == "agedb30"
    back = pd.read_csv(tmp_path / "summary.tsv", sep="\t")
    assert back.loc[0, "accuracy"] == pytest.approx(s["accuracy"])
    assert len(pd.read_csv(tmp_path / "folds.tsv", sep="\t")) == 10
    assert len(labels) == 10


def _tiny_jpeg(path):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (120, 90, 60)).save(path)


def test_protocol_dataset_csv_holds_only_named_images(tmp_path):
    """A protocol run: the dataset CSV lists only the protocol's images, read by the csv adapter."""
    from faceage.datasets import build_manifest

    write_agedb_mat(tmp_path / "p.mat", n_splits=10, n=2)
    named = pr.protocol_images(pr.read_agedb_mat(tmp_path / "p.mat"))
    for name in named + ["9999_Extra_40_f", "9998_Extra_41_f"]:
        _tiny_jpeg(tmp_path / "agedb" / f"{name}.jpg")
    missing = pr.write_protocol_dataset(tmp_path / "p.mat", "agedb_mat", tmp_path / "agedb", "agedb",
                                        tmp_path / "run.csv")  # fmt: skip
    assert missing == []
    manifest, rejects = build_manifest("csv", tmp_path / "run.csv")
    assert len(manifest) == len(named) == 40 and rejects.empty
    assert not manifest["person"].str.startswith("Extra").any()
    assert manifest.loc[manifest["source"] == "0_Person0x0_20_m.jpg", "age"].iloc[0] == 20


def test_protocol_dataset_lfw_style_and_cli(tmp_path, capsys):
    (tmp_path / "pairs.txt").write_text("1\t1\nAnn_V\t1\t2\nBob\t1\tCarl_X\t1\n")
    for rel in [
        "Ann_V/Ann_V_0001.jpg",
        "Ann_V/Ann_V_0002.jpg",
        "Bob/Bob_0001.jpg",
        "Dan/Dan_0001.jpg",
    ]:
        _tiny_jpeg(tmp_path / "lfw" / rel)
    rc = pr.main(["--protocol", str(tmp_path / "pairs.txt"), "--format", "lfw", "--images", str(tmp_path / "lfw"),
                  "--images-format", "lfw", "--out", str(tmp_path / "run.csv")])  # fmt: skip
    assert rc == 0
    out = capsys.readouterr().out
    assert "3 of the protocol's 4 images found" in out and "Carl_X/Carl_X_0001.jpg" in out
    table = pd.read_csv(tmp_path / "run.csv")
    assert sorted(table["person"]) == ["Ann_V", "Ann_V", "Bob"] and table["age"].isna().all()
