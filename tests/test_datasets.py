"""Dataset adapters: names that parse, names that do not, and the manifest they make."""

from pathlib import Path, PurePosixPath

import pandas as pd
import pytest

from faceage.datasets import agedb, assign_shards, build_manifest, fgnet, folders, utkface
from faceage.datasets.base import NameProblem


def touch(root: Path, rel: str, data: bytes = b"x") -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


@pytest.mark.parametrize(
    "name,person,age,gender",
    [
        ("0_MariaCallas_35_f.jpg", "MariaCallas", 35, "F"),
        ("16487_Some_Name_71_m.jpg", "Some_Name", 71, "M"),
    ],
)
def test_agedb_names(name, person, age, gender):
    lab = agedb.parse_name(PurePosixPath(name))
    assert (lab.person, lab.age, lab.gender) == (person, age, gender)


@pytest.mark.parametrize(
    "name",
    ["MariaCallas_35_f.jpg", "0_MariaCallas_x_f.jpg", "0_MariaCallas_35_q.jpg", "0__35_f.jpg"],
)
def test_agedb_malformed(name):
    with pytest.raises(NameProblem, match="unparseable_name"):
        agedb.parse_name(PurePosixPath(name))


@pytest.mark.parametrize(
    "name,person,age",
    [
        ("078A11.JPG", "078", 11),
        ("001a43b.jpg", "001", 43),
        ("001A43a.JPG", "001", 43),
        ("012A02.png", "012", 2),
    ],
)
def test_fgnet_names(name, person, age):
    lab = fgnet.parse_name(PurePosixPath(name))
    assert (lab.person, lab.age, lab.gender) == (person, age, None)


@pytest.mark.parametrize(
    "name", ["78A11.JPG", "078B11.JPG", "078A1.JPG", "078A11ab.JPG", "notes.JPG"]
)
def test_fgnet_malformed(name):
    with pytest.raises(NameProblem):
        fgnet.parse_name(PurePosixPath(name))


def test_utkface_names():
    lab = utkface.parse_name(PurePosixPath("26_1_2_20170116174525125.jpg.chip.jpg"))
    assert (lab.age, lab.gender, lab.race) == (26, "F", "Asian")
    assert lab.person == "utk_20170116174525125_26"  # no identity: each image is its own person


@pytest.mark.parametrize(
    "name",
    [
        "61_1_20170109150557335.jpg.chip.jpg",
        "39_1_20170116174525125 .jpg.chip.jpg",
        "24_0_1_2017011619.jpg.chip.jpg",
        "x_0_1_20170116174525125.jpg.chip.jpg",
        "26_2_1_20170116174525125.jpg.chip.jpg",
    ],
)
def test_utkface_malformed(name):
    with pytest.raises(NameProblem):
        utkface.parse_name(PurePosixPath(name))


@pytest.mark.parametrize(
    "rel,person,age,gender",
    [
        ("anna/34.jpg", "anna", 34, None),
        ("anna/34a.jpg", "anna", 34, None),
        ("anna/34_2.png", "anna", 34, None),
        ("F/anna/7.jpg", "anna", 7, "F"),
    ],
)
def test_folders_names(rel, person, age, gender):
    lab = folders.parse_name(PurePosixPath(rel))
    assert (lab.person, lab.age, lab.gender) == (person, age, gender)


@pytest.mark.parametrize("rel", ["34.jpg", "anna/young.jpg", "X/anna/3.jpg", "a/b/c/3.jpg"])
def test_folders_malformed(rel):
    with pytest.raises(NameProblem):
        folders.parse_name(PurePosixPath(rel))


def test_build_manifest_rejects_and_ids(tmp_path):
    for rel in [
        "001A02.JPG",
        "001A05.JPG",
        "002a10.jpg",
        "sub/003A20.JPG",
        "bad_name.JPG",
        ".DS_Store",
        "Thumbs.db",
        "readme.txt",
        ".hidden/001A09.JPG",
    ]:
        touch(tmp_path, rel)
    man, rej = build_manifest("fgnet", tmp_path, n_shards=2)
    assert list(man["image_id"]) == ["001A02.JPG", "001A05.JPG", "002a10.jpg", "sub/003A20.JPG"]
    assert list(man["person"]) == ["001", "001", "002", "003"]
    assert man["age"].tolist() == [2, 5, 10, 20]
    reasons = dict(zip(rej["source"], rej["reason"].str.split(":").str[0], strict=True))
    assert reasons == {
        "bad_name.JPG": "unparseable_name",
        ".DS_Store": "hidden_file",
        "Thumbs.db": "system_file",
        "readme.txt": "not_an_image_name",
        "001A09.JPG": "hidden_file",
    }
    # all images of a person in one shard
    assert man.groupby("person")["shard"].nunique().max() == 1


def test_csv_adapter(tmp_path):
    touch(tmp_path, "imgs/a.jpg")
    touch(tmp_path, "imgs/b.jpg")
    (tmp_path / "list.csv").write_text(
        "path,person,age,gender\nimgs/a.jpg,ann,30,female\nimgs/b.jpg,bob,,0\n"
        "imgs/missing.jpg,cy,3,\nimgs/a.jpg,,4,\nimgs/b.jpg,dan,x,\n"
    )
    man, rej = build_manifest("csv", tmp_path / "list.csv")
    assert man[["person", "gender"]].values.tolist() == [["ann", "F"], ["bob", "M"]]
    assert pd.isna(man.loc[1, "age"])
    assert sorted(r.split(":")[0] for r in rej["reason"]) == [
        "missing_file",
        "missing_label",
        "unparseable_name",
    ]


def test_assign_shards_balanced_and_deterministic():
    man = pd.DataFrame({"person": ["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d"] * 2 + ["e"] * 1})
    shards = assign_shards(man, 2)
    load = man.assign(s=shards).groupby("s").size().tolist()
    assert sorted(load) == [7, 8]
    assert shards.equals(assign_shards(man.sample(frac=1, random_state=3).sort_index(), 2))


def test_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset format"):
        build_manifest("nope", tmp_path)


def test_fgnet_zip_extraction_and_offline_error(tmp_path):
    import zipfile

    from faceage.datasets.download import extract_images, fetch_fgnet

    z = tmp_path / "FGNET.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("FGNET/images/001A02.JPG", b"jpeg")
        zf.writestr("FGNET/images/Thumbs.db", b"x")
        zf.writestr("FGNET/points/001a02.pts", b"pts")
    assert extract_images(z, tmp_path / "out") == 1
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["001A02.JPG"]
    with pytest.raises(ConnectionError, match="dataset_path"):
        fetch_fgnet(tmp_path / "x", url="http://127.0.0.1:9/FGNET.zip", timeout=2)
