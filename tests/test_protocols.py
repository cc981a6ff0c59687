"""Protocol parsers on tiny fixture files in each format, name matching, and evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.io import savemat

from faceage.analysis.verification import insightface_accuracy
from faceage.protocols import formats as pr
from faceage.protocols.matching import ImageIndex, labels_from_name, protocol_images


def agedb_names(k, n):
    """Names like AgeDB's protocol files: <n>_<Name>_<age>_<g>, no .jpg."""
    a = [f"{100 * k + i}_Person{k}x{i}_{20 + i}_m" for i in range(n)]
    b = [f"{100 * k + i + 50}_Person{k}x{i}_{50 + i}_m" for i in range(n)]
    return a, b


def write_agedb_mat(path, n_splits=10, n=6):
    """A .mat shaped like 04_FINAL_protocol_30_years.mat.

    splits(10,1).<f>.{pairs(2,n){name,age}, flag(1,n)}.
    """
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
    lines = [
        "2\t2",
        "Abel_Pacheco\t1\t4",
        "Akhmed_Zakayev\t1\t3",
        "Abdel_Madi_Shabneh\t1\tDean_Barker\t1",
        "Abdel_Madi_Shabneh\t1\tGiancarlo_Fisichella\t1",
        "Ann_V\t2\t3",
        "Ann_V\t1\t2",
        "Bob\t1\tCarl\t12",
        "Bob\t2\tDan\t1",
    ]
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
    idx = ImageIndex(ids)
    assert idx.find("Abel_Pacheco/Abel_Pacheco_0001.jpg") == ids[0]
    assert idx.find("Abel_Pacheco_0001.jpg") == ids[0]  # CALFW-style bare file name
    assert idx.find("0_MariaCallas_35_f") == ids[1]  # AgeDB: no .jpg
    assert idx.find("x/dup.jpg") == ids[2]  # exact path wins
    assert idx.find("dup.jpg") is None  # ambiguous file name
    assert idx.find("nobody.jpg") is None


def _with_ids(pairs, suffix=".jpg"):
    t = pairs.copy()
    t["id_a"] = pd.array([n + suffix for n in t["image_a"]], dtype="string")
    t["id_b"] = pd.array([n + suffix for n in t["image_b"]], dtype="string")
    return t


def _emb(ids, vectors, route=None):
    n = len(ids)
    return {
        "image_id": np.asarray(ids),
        "vectors": np.asarray(vectors, dtype=np.float32),
        "route": np.asarray(route if route is not None else ["detected"] * n),
    }


def _synthetic_protocol(n_pairs=200, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    persons = rng.normal(size=(n_pairs * 2, dim))
    names_a = [f"img_{i}_a" for i in range(n_pairs)]
    names_b = [f"img_{i}_b" for i in range(n_pairs)]
    genuine = (np.arange(n_pairs) % 2 == 0).astype(int)
    va = persons[:n_pairs]
    vb = np.where(genuine[:, None] == 1, va + rng.normal(0, 0.9, (n_pairs, dim)), persons[n_pairs:])
    ids = np.array([n + ".jpg" for n in names_a + names_b])
    vectors = np.vstack([va, vb]).astype(np.float32)
    folds = np.arange(n_pairs) * 10 // n_pairs
    pairs = pd.DataFrame(
        {"image_a": names_a, "image_b": names_b, "genuine": genuine, "fold": folds}
    )
    return _with_ids(pairs), ids, vectors


def test_evaluate_protocol_counts_unscored_pairs_as_errors():
    from faceage.protocols.evaluation import evaluate_protocol

    pairs, ids, vectors = _synthetic_protocol(n_pairs=2000)
    vectors[5] = (
        np.nan
    )  # one image without a vector: 1 of 200 pairs of fold 0 unscored (0.5 % <= 1 %)
    per_fold, summary, scored = evaluate_protocol(pairs, _emb(ids, vectors))
    assert summary["n_pairs"] == 2000 and summary["n_unscored"] == 1 and summary["n_folds"] == 10
    assert summary["accuracy_note"] == ""
    # the same accuracy from cosine similarities computed here, with the unscored pair an error
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    n = len(pairs)
    sim = np.sum(unit[:n] * unit[n:], axis=1)
    ok = np.isfinite(sim)
    folds, genuine = pairs["fold"].to_numpy(), pairs["genuine"].to_numpy()
    ref = insightface_accuracy(sim[ok], genuine[ok], folds[ok])
    per_fold_all = ref["fold_accuracy"] * np.bincount(folds[ok]) / np.bincount(folds)
    assert summary["accuracy"] == pytest.approx(per_fold_all.mean())
    assert summary["accuracy_std"] == pytest.approx(per_fold_all.std())
    assert summary["accuracy"] < ref["acc_mean"]  # the error counts
    assert per_fold["n_scored"].sum() == 1999 and per_fold.loc[0, "n_pairs"] == 200
    assert 0.6 < summary["accuracy"] <= 1.0 and 0.6 < summary["auc"] <= 1.0
    assert scored["similarity"].isna().sum() == 1


def test_guard_withholds_accuracy_when_a_class_is_lost():
    """Every impostor pair unscored: no accuracy, with the reason; AUC also not estimable."""
    from faceage.protocols.evaluation import evaluate_protocol

    pairs, ids, vectors = _synthetic_protocol()
    imp_b = pairs.loc[pairs["genuine"] == 0, "id_b"].astype(str)
    vectors[np.isin(ids, imp_b)] = np.nan
    _, summary, _ = evaluate_protocol(pairs, _emb(ids, vectors))
    assert np.isnan(summary["accuracy"]) and np.isnan(summary["accuracy_std"])
    assert "no scored impostor pair" in summary["accuracy_note"]
    assert "100 of 200 pairs unscored" in summary["accuracy_note"]


def test_guard_withholds_accuracy_above_one_percent_unscored():
    from faceage.protocols.evaluation import evaluate_protocol

    pairs, ids, vectors = _synthetic_protocol()
    vectors[[3, 7, 11]] = np.nan  # 3 of 200 pairs = 1.5 %
    _, summary, _ = evaluate_protocol(pairs, _emb(ids, vectors))
    assert np.isnan(summary["accuracy"]) and "1.5% > 1%" in summary["accuracy_note"]


def test_fallback_pairs_are_counted_by_route():
    from faceage.protocols.evaluation import evaluate_protocol

    pairs, ids, vectors = _synthetic_protocol()
    route = np.array(["detected"] * len(ids), dtype=object)
    route[0] = "fallback_crop"
    route[1] = "fallback_aligned"
    _, summary, scored = evaluate_protocol(pairs, _emb(ids, vectors, route))
    uses = scored["id_a"].isin(ids[:2]) | scored["id_b"].isin(ids[:2])
    crop = scored["id_a"].eq(ids[0]) | scored["id_b"].eq(ids[0])
    assert summary["n_fallback_pairs"] == uses.sum() > 0
    assert summary["n_fallback_crop_pairs"] == crop.sum() > 0
    # a pair's route is the less direct of its two images'
    assert set(scored.loc[crop, "route"]) == {"fallback_crop"}
    assert set(scored.loc[uses & ~crop, "route"]) <= {"fallback_aligned"}
    assert set(scored.loc[~uses, "route"]) == {"detected"}


def test_protocol_evaluation_step(tmp_path):
    from faceage import steps
    from faceage.contracts import write_embeddings, write_table

    labels = write_agedb_mat(tmp_path / "p.mat", n=6)
    df = pr.read_agedb_mat(tmp_path / "p.mat")
    names = protocol_images(df)
    rng = np.random.default_rng(1)
    vec = rng.normal(size=(len(names), 8)).astype(np.float32)
    n = len(names)
    write_embeddings(
        tmp_path / "m.npz",
        [x + ".jpg" for x in names],
        vec,
        ["ok"] * n,
        np.full(n, 1),
        np.zeros((n, 4)),
        np.ones(n),
    )
    table = _with_ids(df)
    table.insert(0, "pair", range(len(table)))
    write_table(table, tmp_path / "protocols" / "agedb30.tsv")  # protocol_manifest's folder
    man = pd.DataFrame({"image_id": [x + ".jpg" for x in names], "alias_of": pd.NA})
    man.loc[3, "alias_of"] = man.loc[2, "image_id"]
    write_table(man, tmp_path / "clean.tsv")
    s = steps.run(
        "verification_protocol",
        input={
            "protocols": str(tmp_path / "protocols"),
            "embeddings": str(tmp_path / "m.npz"),
            "manifest": str(tmp_path / "clean.tsv"),
        },
        output={
            "summary": str(tmp_path / "summary.tsv"),
            "folds": str(tmp_path / "folds.tsv"),
            "pairs": str(tmp_path / "scored.tsv"),
        },
        settings={"format": "agedb_mat"},
        wildcards={"model": "m", "protocol": "agedb30"},
    )
    assert s["n_scored"] == 60 and s["protocol"] == "agedb30" and s["n_aliases"] == 1
    back = pd.read_csv(tmp_path / "summary.tsv", sep="\t")
    assert back.loc[0, "accuracy"] == pytest.approx(s["accuracy"])
    assert len(pd.read_csv(tmp_path / "folds.tsv", sep="\t")) == 10
    assert len(labels) == 10


def _tiny_jpeg(path, colour=(120, 90, 60)):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), colour).save(path)


def test_protocol_manifest_holds_exactly_the_named_images(tmp_path):
    """AgeDB: labels from the names; images not named are not in the manifest."""
    from faceage.protocols.dataset import protocol_manifest, protocols_from_config

    write_agedb_mat(tmp_path / "p.mat", n_splits=10, n=2)
    named = protocol_images(pr.read_agedb_mat(tmp_path / "p.mat"))
    for i, name in enumerate(named + ["9999_Extra_40_f", "9998_Extra_41_f"]):
        _tiny_jpeg(tmp_path / "agedb" / f"{name}.jpg", (i, i, i))
    prots = protocols_from_config(
        [{"file": str(tmp_path / "p.mat"), "images": str(tmp_path / "agedb")}]
    )
    assert prots[0].name == "p" and prots[0].labels == "agedb"
    manifest, rejects, tables = protocol_manifest(prots)
    assert len(manifest) == len(named) == 40 and rejects.empty
    assert not manifest["person"].str.startswith("Extra").any()
    assert manifest.loc[manifest["source"] == "0_Person0x0_20_m.jpg", "age"].iloc[0] == 20
    assert (
        tables["p"]["id_a"].notna().all()
        and tables["p"]["id_a"].iloc[0] == "agedb/0_Person0x0_20_m.jpg"
    )


def test_protocol_manifest_lfw_style_unknown_labels_and_shared_images(tmp_path):
    """Two protocols over one folder share images; a missing name is a reject, never a drop."""
    from faceage.protocols.dataset import protocol_manifest, protocols_from_config

    (tmp_path / "pairs.txt").write_text("1\t1\nAnn_V\t1\t2\nBob\t1\tCarl_X\t1\n")
    (tmp_path / "p.csv").write_text(
        "image_a,image_b,same\nAnn_V/Ann_V_0001.jpg,Bob/Bob_0001.jpg,0\n"
    )
    for i, rel in enumerate(
        ["Ann_V/Ann_V_0001.jpg", "Ann_V/Ann_V_0002.jpg", "Bob/Bob_0001.jpg", "Dan/Dan_0001.jpg"]
    ):
        _tiny_jpeg(tmp_path / "lfw" / rel, (i * 20, 0, 0))
    prots = protocols_from_config(
        [
            {
                "file": str(tmp_path / "pairs.txt"),
                "format": "lfw",
                "images": str(tmp_path / "lfw"),
                "name": "lfw",
            },
            {"file": str(tmp_path / "p.csv"), "format": "csv", "images": str(tmp_path / "lfw")},
        ]
    )
    manifest, rejects, tables = protocol_manifest(prots)
    assert sorted(manifest["image_id"]) == [
        "lfw/Ann_V/Ann_V_0001.jpg",
        "lfw/Ann_V/Ann_V_0002.jpg",
        "lfw/Bob/Bob_0001.jpg",
    ]
    assert (
        sorted(manifest["person"].dropna()) == ["Ann_V", "Ann_V", "Bob"]
        and manifest["age"].isna().all()
    )
    assert rejects["source"].tolist() == ["Carl_X/Carl_X_0001.jpg"]
    assert tables["lfw"]["id_b"].isna().tolist() == [False, True]
    assert tables["p"]["id_a"].iloc[0] == "lfw/Ann_V/Ann_V_0001.jpg"  # the same image id in both


def test_labels_from_names():
    assert labels_from_name("Name_Surname_0003.jpg", "lfw")["person"] == "Name_Surname"
    assert labels_from_name("anna/y/photo1.jpg", "top_folder")["person"] == "anna"
    assert labels_from_name("x/0_MariaCallas_35_f.jpg", "agedb") == {
        "person": "MariaCallas",
        "age": 35,
        "gender": "F",
    }
    assert labels_from_name("garbage.jpg", "agedb") == {"person": None, "age": None, "gender": None}
    assert labels_from_name("anna/photo1.jpg", "none")["person"] is None


def test_protocol_names_must_be_unique():
    from faceage.protocols.dataset import protocols_from_config

    with pytest.raises(ValueError, match="used twice"):
        protocols_from_config(
            [{"file": "a/p.csv", "format": "csv"}, {"file": "b/p.csv", "format": "csv"}]
        )


def test_shards_equal_whatever_the_person_labels():
    """4 shards over images that all carry one person label: 4 shards of equal size (+-1)."""
    from faceage.datasets import assign_shards

    man = pd.DataFrame({"image_id": [f"i{k:03d}" for k in range(103)], "person": "images"})
    sizes = assign_shards(man, 4).value_counts().sort_index().tolist()
    assert sizes == [26, 26, 26, 25]
    man["alias_of"] = pd.array([pd.NA] * 103, dtype="string")
    man.loc[100:, "alias_of"] = "i000"  # aliases are not work: they follow their original
    sh = assign_shards(man, 4)
    assert sh[man["alias_of"].isna()].value_counts().sort_index().tolist() == [25, 25, 25, 25]
    assert (sh[100:] == sh[0]).all()


def write_agedb_mat_real(path, n_splits=10, n=6):
    """The real file's nesting: splits is a 10 x 1 cell; each cell a 1 x 1 struct whose first
    field is a 2 x n cell of 1 x 1 structs {name, age} and whose second is a 1 x n row of +1/-1
    labels. Public readers index it as splits[k][0][0][0] -> (pairs cell, labels)."""
    splits = np.empty((n_splits, 1), dtype=object)
    labels_all = []
    for k in range(n_splits):
        a, b = agedb_names(k, n)
        cell = np.empty((2, n), dtype=object)
        for i in range(n):
            cell[0, i] = {"name": a[i], "age": 20 + i}
            cell[1, i] = {"name": b[i], "age": 50 + i}
        labels = np.where(np.arange(n) % 3 == 0, 1, -1)
        labels_all.append(labels)
        splits[k, 0] = {"pairs": cell, "flag": labels.reshape(1, n).astype(float)}
    savemat(path, {"splits": splits})
    return labels_all


def test_agedb_mat_real_nesting(tmp_path):
    from scipy.io import loadmat

    labels = write_agedb_mat_real(tmp_path / "real.mat")
    # the fixture has the nesting public readers of the real file rely on
    fold = loadmat(tmp_path / "real.mat")["splits"][1][0][0][0]
    assert fold[0].shape == (2, 6) and fold[1].shape == (1, 6)
    assert str(fold[0][0, 1][0][0][0][0]) == "101_Person1x1_21_m"
    df = pr.read_protocol(tmp_path / "real.mat", "agedb_mat")
    assert len(df) == 60 and sorted(df["fold"].unique()) == list(range(10))
    assert (
        df.loc[7, "image_a"] == "101_Person1x1_21_m"
        and df.loc[7, "image_b"] == "151_Person1x1_51_m"
    )
    np.testing.assert_array_equal(df["genuine"], (np.concatenate(labels) == 1).astype(int))


def write_bin(path, images, issame):
    import pickle

    with open(path, "wb") as fh:
        pickle.dump((images, issame), fh, protocol=2)


def test_insightface_bin_reader(tmp_path):
    import io

    from PIL import Image

    jpgs = []
    for i in range(40):
        buf = io.BytesIO()
        Image.new("RGB", (112, 112), (i * 5, 0, 0)).save(buf, format="JPEG")
        jpgs.append(buf.getvalue())
    write_bin(tmp_path / "x.bin", jpgs, [i % 2 == 0 for i in range(20)])
    df = pr.read_protocol(tmp_path / "x.bin", "insightface_bin")
    assert len(df) == 20 and df.loc[3, "image_a"] == "00006" and df.loc[3, "image_b"] == "00007"
    assert df["genuine"].tolist()[:3] == [1, 0, 1] and df["fold"].tolist() == list(
        np.repeat(range(10), 2)
    )
    # numpy arrays of bytes and bool (as some .bin writers store them) are accepted too
    write_bin(
        tmp_path / "y.bin",
        [np.frombuffer(j, dtype=np.uint8) for j in jpgs],
        np.ones(20, dtype=bool),
    )
    images, same = pr.read_bin(tmp_path / "y.bin")
    assert images[0] == jpgs[0] and same.all()
    from faceage.images import load_rgb

    assert load_rgb(f"{tmp_path / 'x.bin'}::7").shape == (112, 112, 3)


class _Evil:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.target}",))


def test_insightface_bin_refuses_code(tmp_path):
    """A .bin whose pickle would run a shell command is refused before anything runs."""
    import pickle

    target = tmp_path / "pwned"
    with open(tmp_path / "evil.bin", "wb") as fh:
        pickle.dump(([b"x", _Evil(target)], [True]), fh, protocol=2)
    with pytest.raises(pr.UnsafePickleError, match="refused to load (posix|os|nt).system"):
        pr.read_protocol(tmp_path / "evil.bin", "insightface_bin")
    assert not target.exists()
    # an object numpy array (could hold anything) is refused too
    with open(tmp_path / "obj.bin", "wb") as fh:
        pickle.dump(([np.array([1, "a"], dtype=object)], [True]), fh, protocol=2)
    with pytest.raises(pr.UnsafePickleError, match="dtype object"):
        pr.read_protocol(tmp_path / "obj.bin", "insightface_bin")
