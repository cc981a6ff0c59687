"""External models (faceage.external, steps/external.py): vectors and scores from a user's
file, matched to the dataset, every error naming the key and the file. Fast: no Snakemake
(the run on the demo: tests/test_external_models_run.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faceage import contracts as c
from faceage import external as ext
from faceage.steps import run


def manifest(n_persons: int = 3, per_person: int = 2) -> pd.DataFrame:
    rows = [
        {"image_id": f"p{p}/{20 + k}.png", "path": f"data/p{p}/{20 + k}.png", "person": f"p{p}"}
        | {"age": 20 + k, "gender": "", "source": "t", "shard": 0}
        for p in range(n_persons)
        for k in range(per_person)
    ]
    return pd.DataFrame(rows)


def pairs(man: pd.DataFrame) -> pd.DataFrame:
    """Every pair of images of ``man`` in the pairs contract."""
    rows = []
    for i in range(len(man)):
        for j in range(i + 1, len(man)):
            a, b = man.iloc[i], man.iloc[j]
            rows.append(
                {
                    "pair_id": len(rows),
                    "image_a": a["image_id"],
                    "image_b": b["image_id"],
                    "person_a": a["person"],
                    "person_b": b["person"],
                    "genuine": a["person"] == b["person"],
                    "age_a": a["age"],
                    "age_b": b["age"],
                }
            )
    df = pd.DataFrame(rows)
    for col in c.PAIR_COLUMNS:
        if col not in df:
            df[col] = 0 if "age" in col or "gap" in col else "x"
    df["age_gap"] = (df["age_b"] - df["age_a"]).abs()
    return df


# Reading vectors.


def test_vectors_read_from_every_file_kind(tmp_path):
    ids = np.array(["a", "b", "c"])
    vec = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.savez(tmp_path / "v.npz", ids=ids, vectors=vec)
    np.save(tmp_path / "v.npy", vec)
    (tmp_path / "ids.txt").write_text("a\nb\nc\n")
    wide = pd.DataFrame(vec, columns=[f"d{i}" for i in range(4)]).assign(image_id=ids)
    wide.to_parquet(tmp_path / "wide.parquet")
    pd.DataFrame({"image_id": ids, "vector": list(vec)}).to_parquet(tmp_path / "list.parquet")
    # the workflow's own <model>_vectors.csv: status column, rows not ok left out
    csv = wide.assign(status="ok")
    csv.loc[len(csv)] = [np.nan] * 4 + ["d", "no_face"]
    csv.to_csv(tmp_path / "v.csv", index=False)
    for name, ids_path in [
        ("v.npz", None),
        ("v.npy", tmp_path / "ids.txt"),
        ("wide.parquet", None),
        ("list.parquet", None),
        ("v.csv", None),
    ]:
        got_ids, got = ext.read_vectors(tmp_path / name, ids_path=ids_path)
        assert list(got_ids) == ["a", "b", "c"], name
        np.testing.assert_array_equal(got, vec)


@pytest.mark.parametrize(
    ("ids", "vectors", "message"),
    [
        (["a", "a"], [[1.0, 2.0], [3.0, 4.0]], "1 ids appear more than once, e.g. a"),
        (["a", "b"], [[1.0, np.nan], [3.0, 4.0]], "1 vectors hold NaN or infinity, e.g. a"),
        (["a", "b"], [[1.0, np.inf], [3.0, 4.0]], "NaN or infinity"),
        ([], np.zeros((0, 2)), "holds no vectors"),
        (["a", ""], [[1.0, 2.0], [3.0, 4.0]], "1 rows have no id"),
    ],
)
def test_bad_vectors_are_refused_naming_key_and_file(tmp_path, ids, vectors, message):
    path = tmp_path / "v.npz"
    np.savez(path, ids=np.array(ids, dtype=str), vectors=np.array(vectors, dtype=np.float32))
    with pytest.raises(ext.ExternalFileError) as err:
        ext.read_vectors(path, where="external_models.mine.embeddings")
    assert str(err.value).startswith(f"external_models.mine.embeddings: {path}: ")
    assert message in str(err.value)


def test_bad_tables_are_refused(tmp_path):
    np.savez(tmp_path / "x.npz", names=np.array(["a"]), vectors=np.ones((1, 2)))
    with pytest.raises(ext.ExternalFileError, match="no array ids"):
        ext.read_vectors(tmp_path / "x.npz")
    pd.DataFrame({"image_id": ["a", "b"], "vector": [[1.0, 2.0], [1.0]]}).to_parquet(
        tmp_path / "ragged.parquet"
    )
    with pytest.raises(ext.ExternalFileError, match=r"different lengths: \[1, 2\]"):
        ext.read_vectors(tmp_path / "ragged.parquet")
    pd.DataFrame({"image_id": ["a"], "v0": [1.0], "note": ["x"]}).to_csv(
        tmp_path / "text.csv", index=False
    )
    with pytest.raises(ext.ExternalFileError, match="column.s. note are not numeric"):
        ext.read_vectors(tmp_path / "text.csv")
    with pytest.raises(ext.ExternalFileError, match="no column 'path' .key: path."):
        ext.read_vectors(tmp_path / "text.csv", key="path")
    np.save(tmp_path / "v.npy", np.ones((3, 2)))
    (tmp_path / "ids.txt").write_text("a\nb\n")
    with pytest.raises(ext.ExternalFileError, match="3 vectors but 2 ids"):
        ext.read_vectors(tmp_path / "v.npy", ids_path=tmp_path / "ids.txt")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ext.ExternalFileError, match="not readable"):
        ext.read_vectors(tmp_path / "bad.npz")


# Matching vectors to the dataset.


def test_vectors_matched_by_id_with_both_sides_reported():
    man = manifest()
    everything = pd.concat([man, manifest(4).iloc[6:7]], ignore_index=True)  # p3 cleaned out
    ids = np.array(["p0/20.png", "p1/21.png", "p3/20.png", "nobody.png"])
    vec = np.arange(8, dtype=np.float32).reshape(4, 2)
    arrays, missing = ext.match_vectors(ids, vec, man, all_images=everything)
    assert list(arrays["image_id"]) == list(man["image_id"])
    assert (
        list(arrays["status"]) == ["ok", "not_in_file", "not_in_file", "ok"] + ["not_in_file"] * 2
    )
    np.testing.assert_array_equal(arrays["vectors"][0], [0, 1])
    np.testing.assert_array_equal(arrays["vectors"][3], [2, 3])
    assert np.isnan(arrays["vectors"][1]).all()
    assert list(arrays["route"][:2]) == ["external", ""]
    by_reason = missing.groupby("reason")["id"].apply(list).to_dict()
    assert by_reason == {
        "not_in_file": ["p0/21.png", "p1/20.png", "p2/20.png", "p2/21.png"],
        "removed_by_cleaning": ["p3/20.png"],
        "not_in_dataset": ["nobody.png"],
    }
    report = pd.DataFrame(ext.summary_rows(missing, 2))
    assert report.set_index("reason")["n"].to_dict() == {
        "matched": 2,
        "not_in_dataset": 1,
        "not_in_file": 4,
        "removed_by_cleaning": 1,
    }
    # the arrays are an embeddings file as the contract has it
    assert not ext.match_vectors(ids[:1], vec[:1], man)[1].empty


def test_vectors_matched_by_path_and_aliases_take_their_originals():
    man = manifest(1, 3)
    man["alias_of"] = [pd.NA, pd.NA, "p0/20.png"]
    vec = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    # the manifest's own path, normalised, and relative to dataset_path all name an image
    for names in (["data/p0/20.png", "data/p0/21.png"], ["./data/p0/20.png", "p0/21.png"]):
        arrays, missing = ext.match_vectors(
            np.array(names), vec, man, key="path", dataset_path="data"
        )
        assert list(arrays["status"]) == ["ok", "ok", "ok"], names
        np.testing.assert_array_equal(arrays["vectors"][2], [1.0, 0.0])  # the alias
        assert missing.empty


# Score files.


def write_bob(path, rows) -> None:
    pd.DataFrame(
        rows,
        columns=[
            "probe_template_id",
            "probe_subject_id",
            "bio_ref_template_id",
            "bio_ref_subject_id",
            "score",
        ],
    ).to_csv(path, index=False)


def test_bob_file_read_and_joined_to_pairs_in_either_order(tmp_path):
    man = manifest()
    write_bob(
        tmp_path / "s.csv",
        [
            ["p0/21.png", "p0", "p0/20.png", "p0", 0.9],  # genuine
            ["p0/20.png", "p0", "p1/20.png", "p1", 0.1],  # order swapped: same pair
            ["p1/21.png", "x", "p1/20.png", "y", 0.8],  # labels differ from the dataset's
            ["p2/20.png", "p2", "zz.png", "zz", 0.5],  # an image the dataset lacks
            ["p2/20.png", "p2", "p2/21.png", "p2", ""],  # unscored
        ],
    )
    table = ext.read_bob(tmp_path / "s.csv")
    assert list(table["file_genuine"]) == [True, False, False, False, True]
    lookup = ext.ScoreLookup.of(table, man)
    pp = pairs(man)
    sim = lookup(pp)
    got = {(a, b): s for a, b, s in zip(pp["image_a"], pp["image_b"], sim, strict=True)}
    assert got[("p0/20.png", "p0/21.png")] == 0.9
    assert got[("p0/20.png", "p1/20.png")] == 0.1
    assert got[("p1/20.png", "p1/21.png")] == 0.8
    assert np.isnan(got[("p2/20.png", "p2/21.png")])
    assert np.isfinite(sim).sum() == 3
    report = pd.DataFrame(lookup.summary({"pairs": (3, len(pp) - 3)})).set_index(
        ["item", "reason"]
    )["n"]
    assert report[("image", "not_in_dataset")] == 1
    assert report[("pair (file)", "label_differs")] == 1
    assert report[("pair (file)", "in_no_pairs_table")] == 0
    assert report[("pair (pairs)", "scored")] == 3
    assert "zz.png" in set(lookup.id_report()["id"])
    assert "not_in_file" not in set(lookup.id_report()["reason"])  # every image is in a row


def test_bob_reference_id_columns_are_read(tmp_path):
    pd.DataFrame(
        {
            "probe_reference_id": ["a"],
            "probe_subject_id": ["s"],
            "bio_ref_reference_id": ["b"],
            "bio_ref_subject_id": ["s"],
            "score": [1.5],
        }
    ).to_csv(tmp_path / "s.csv", index=False)
    t = ext.read_bob(tmp_path / "s.csv")
    assert (t["id_a"][0], t["id_b"][0], t["score"][0]) == ("b", "a", 1.5)


def test_bad_score_files_are_refused_naming_key_file_and_lines(tmp_path):
    write_bob(tmp_path / "s.csv", [["a", "s", "b", "s", 0.1], ["a", "s", "c", "t", "high"]])
    with pytest.raises(ext.ExternalFileError) as err:
        ext.read_bob(tmp_path / "s.csv", "external_models.theirs.scores")
    assert str(err.value) == (
        f"external_models.theirs.scores: {tmp_path / 's.csv'}: 1 scores are not numbers: "
        "line 3 ('high')"
    )
    pd.DataFrame({"a": [1], "score": [1]}).to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(ext.ExternalFileError, match="not a bob.bio score file"):
        ext.read_bob(tmp_path / "other.csv")
    man = manifest()
    write_bob(
        tmp_path / "twice.csv",
        [["p0/20.png", "p0", "p0/21.png", "p0", 0.1], ["p0/21.png", "p0", "p0/20.png", "p0", 0.2]],
    )
    with pytest.raises(ext.ExternalFileError, match="1 pairs are scored more than once, e.g. "):
        ext.ScoreLookup.of(ext.read_bob(tmp_path / "twice.csv"), man, path="twice.csv")


def test_pyeer_files_need_their_pairs(tmp_path):
    (tmp_path / "g.txt").write_text("0.9\n0.8\n")
    (tmp_path / "i.txt").write_text("0.1\n")
    pd.DataFrame({"image_a": ["a", "c", "a"], "image_b": ["b", "d", "c"]}).to_csv(
        tmp_path / "p.csv", index=False
    )
    t = ext.read_pyeer(tmp_path / "g.txt", tmp_path / "i.txt", tmp_path / "p.csv")
    assert list(t["file_genuine"]) == [True, True, False]
    assert list(t["score"]) == [0.9, 0.8, 0.1]
    (tmp_path / "i.txt").write_text("0.1\n0.2\n")
    with pytest.raises(ext.ExternalFileError, match=r"3 rows, but .* 2 genuine \+ 2 impostor"):
        ext.read_pyeer(tmp_path / "g.txt", tmp_path / "i.txt", tmp_path / "p.csv", "x")
    (tmp_path / "i.txt").write_text("0.1\nabc\n")
    with pytest.raises(ext.ExternalFileError, match=r"x\.impostor: .*line 2 \('abc'\)"):
        ext.read_pyeer(tmp_path / "g.txt", tmp_path / "i.txt", tmp_path / "p.csv", "x")


# The configuration.


def test_entry_problems_name_the_key(tmp_path):
    (tmp_path / "v.npy").write_bytes(b"")
    assert ext.kind({"embeddings": "v.npz"}) == "vectors"
    assert ext.kind({"scores": "s.csv"}) == "bob"
    assert ext.kind({"genuine": "g"}) == "pyeer"
    assert ext.kind({"embeddings": "v", "scores": "s"}) == ""
    assert "give exactly one of" in ext.entry_problems("m", {"key": "image_id"})[0]
    got = ext.entry_problems("m", {"embeddings": str(tmp_path / "v.npy")}, "datasets.d.")
    assert got == [
        "datasets.d.external_models.m.ids: a .npy holds no ids; name a text file of image ids "
        "(one a line, in the order of the vectors), or use a .npz with arrays ids and vectors"
    ]
    got = ext.entry_problems("m", {"embeddings": "gone.h5"})
    assert "a .h5 is not read" in got[0]
    assert got[1] == "external_models.m.embeddings: 'gone.h5' does not exist"
    got = ext.entry_problems("m", {"genuine": str(tmp_path / "v.npy")})
    assert [p.split(":")[0] for p in got] == [
        "external_models.m.impostor",
        "external_models.m.pairs",
    ]


def test_schema_defaults_and_the_workflow_functions(conf, tmp_path):
    from faceage.workflow import datasets as wd
    from faceage.workflow.layout import Layout

    c = conf(
        models=["eigenfaces", "vecs", "theirs"],
        external_models={"vecs": {"embeddings": "v.npz"}, "theirs": {"scores": "s.csv"}},
    )
    assert c["external_models"]["vecs"] == {
        "embeddings": "v.npz",
        "ids": "",
        "dim": 0,
        "key": "image_id",
    }
    assert wd.score_models(c) == ["theirs"]
    assert wd.vector_models(c) == ["eigenfaces", "vecs"]
    assert wd.probe_models(c) == {"probe_models": ["eigenfaces", "vecs"]}
    assert wd.external_inputs("vecs", c) == {"vectors": "v.npz"}
    assert wd.external_settings("vecs", c) == {"key": "image_id", "dim": 0}
    assert wd.external_settings("theirs", c) == {"key": "image_id"}
    out = Layout().dataset_outputs("d", c)
    assert "results/d/external/vecs.tsv" in out and "results/d/external/theirs.tsv" in out
    assert "results/d/plots/projections_vecs.png" in out
    assert not any("theirs" in f for f in out if "projections" in f or "vectors.csv" in f)
    assert Layout().comparison_inputs("d", c)["probe"] == [
        "results/d/verification/eigenfaces/age_probe.tsv",
        "results/d/verification/vecs/age_probe.tsv",
    ]
    assert Layout().embedding_files("d", c) == [
        "results/d/embeddings/eigenfaces.npz",
        "results/d/embeddings/vecs.npz",
    ]
    # without score models the rules' settings are what they were
    plain = conf(models=["eigenfaces"])
    assert wd.probe_models(plain) == {} and wd.score_models(plain) == []


def test_run_checks_name_unknown_clashing_and_missing(conf, tmp_path):
    from faceage.workflow.settings import study_problems

    run_keys = {"datasets": {}, "custom_models": ["mine"], "python_envs": {}}
    run_keys["weights_dir"] = str(tmp_path / "weights")
    c = conf(
        models=["eigenfaces", "vecs", "mine"],
        external_models={
            "vecs": {"embeddings": str(tmp_path / "none.npz")},
            "mine": {"scores": "s"},
        },
    )
    got = study_problems(run_keys, {"demo": c}, {"demo": []})
    text = "\n".join(got)
    assert f"external_models.vecs.embeddings: '{tmp_path / 'none.npz'}' does not exist" in text
    assert "external_models.mine: 'mine' is also a custom model" in text


def test_protocol_datasets_take_vectors_not_scores(conf, tmp_path):
    from faceage.workflow.settings import external_problems

    (tmp_path / "s.csv").write_text("x")
    c = conf(
        dataset_format="protocol",
        models=["theirs"],
        external_models={"theirs": {"scores": str(tmp_path / "s.csv")}},
    )
    (problem,) = external_problems(c)
    assert problem.startswith("external_models.theirs: a score file joins the dataset's pairs")


# The steps.


def test_external_embeddings_step_writes_the_contract_and_the_report(tmp_path):
    man = manifest()
    c.write_table(man, tmp_path / "clean.tsv")
    c.write_table(man, tmp_path / "all.tsv")
    np.savez(
        tmp_path / "v.npz",
        ids=np.array(["p0/20.png", "p2/21.png", "q.png"]),
        vectors=np.ones((3, 5), dtype=np.float32),
    )
    files = {
        "input": {"vectors": str(tmp_path / "v.npz"), "manifest": str(tmp_path / "all.tsv")}
        | {"clean": str(tmp_path / "clean.tsv")},
        "output": {
            "embeddings": str(tmp_path / "e.npz"),
            "report": str(tmp_path / "r.tsv"),
            "ids": str(tmp_path / "ids.tsv"),
        },
        "wildcards": {"model": "vecs"},
    }
    run("external_embeddings", settings={"key": "image_id", "dim": 5}, **files)
    emb = c.read_embeddings(tmp_path / "e.npz")
    assert (emb["status"] == "ok").sum() == 2 and emb["vectors"].shape == (6, 5)
    report = pd.read_csv(tmp_path / "r.tsv", sep="\t").set_index("reason")["n"]
    assert (report["matched"], report["not_in_file"], report["not_in_dataset"]) == (2, 4, 1)
    with pytest.raises(ext.ExternalFileError, match=r"5 dimensions, not 128 \(external_models"):
        run("external_embeddings", settings={"key": "image_id", "dim": 128}, **files)
    with pytest.raises(ext.ExternalFileError, match="none of its 3 ids"):
        run("external_embeddings", settings={"key": "path", "dim": 0}, **files)


def test_external_scores_step_writes_scores_like_the_scores_step(tmp_path):
    man = manifest()
    c.write_table(man, tmp_path / "clean.tsv")
    pp = pairs(man)
    genuine = pp[pp["genuine"]]
    c.write_table(pp, tmp_path / "pairs.parquet")
    c.write_table(pp[~pp["genuine"]], tmp_path / "operating.parquet")
    write_bob(
        tmp_path / "s.csv",
        [[r.image_b, r.person_b, r.image_a, r.person_a, 0.5] for r in genuine.itertuples()],
    )
    out = {k: str(tmp_path / f"out_{k}") for k in ("scores", "operating", "report", "ids")}
    run(
        "external_scores",
        input={"scores": str(tmp_path / "s.csv"), "pairs": str(tmp_path / "pairs.parquet")}
        | {"operating": str(tmp_path / "operating.parquet")}
        | {"manifest": str(tmp_path / "clean.tsv"), "clean": str(tmp_path / "clean.tsv")},
        output={
            k: v + (".parquet" if k in ("scores", "operating") else ".tsv") for k, v in out.items()
        },
        settings={"key": "image_id"},
        wildcards={"model": "theirs"},
    )
    scores = c.read_table(out["scores"] + ".parquet")
    assert list(scores.columns[: len(c.SCORE_COLUMNS)]) == c.SCORE_COLUMNS
    genuine = scores["genuine"].astype(bool)
    assert scores.loc[genuine, "similarity"].eq(0.5).all()
    assert scores.loc[~genuine, "similarity"].isna().all()
    report = pd.read_csv(out["report"] + ".tsv", sep="\t").set_index(["item", "reason"])["n"]
    assert report[("pair (operating)", "not_in_file")] == (~pp["genuine"]).sum()
    assert report[("pair (pairs)", "scored")] == genuine.sum()
