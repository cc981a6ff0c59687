"""CACD adapter: ``<age>_<Name>_<nnnn>.jpg`` names, rejects, and the manifest they make."""

from pathlib import Path, PurePosixPath

import pytest
import yaml

from faceage.datasets import ADAPTERS, build_manifest, cacd
from faceage.datasets.base import NameProblem

ROOT = Path(__file__).resolve().parents[1]


def touch(root: Path, rel: str, data: bytes = b"x") -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


@pytest.mark.parametrize(
    "name,person,age",
    [
        ("53_Robert_De_Niro_0001.jpg", "Robert_De_Niro", 53),
        ("23_Mary-Kate_Olsen_0003.jpg", "Mary-Kate_Olsen", 23),
        ("35_Jean-Claude_Van_Damme_0012.jpg", "Jean-Claude_Van_Damme", 35),
        ("16_Dakota_Fanning_0007.JPG", "Dakota_Fanning", 16),
        ("62_Madonna_0002.jpg", "Madonna", 62),
        ("48_Robert_Downey_Jr._0005.png", "Robert_Downey_Jr.", 48),
    ],
)
def test_cacd_names(name, person, age):
    lab = cacd.parse_name(PurePosixPath(name))
    assert (lab.person, lab.age, lab.gender, lab.race) == (person, age, None, None)


@pytest.mark.parametrize(
    "name,detail",
    [
        ("Robert_De_Niro_0001.jpg", "no age prefix"),
        ("53_Robert_De_Niro.jpg", "no trailing image number"),
        ("53_Robert_De_Niro_01a.jpg", "no trailing image number"),
        ("5x_Robert_De_Niro_0001.jpg", "not a whole number"),
        ("53.5_Robert_De_Niro_0001.jpg", "not a whole number"),
        ("3_Robert_De_Niro_0001.jpg", "outside the plausible"),
        ("530_Robert_De_Niro_0001.jpg", "outside the plausible"),
        ("-4_Robert_De_Niro_0001.jpg", "outside the plausible"),
        ("53_0001.jpg", "expected <age>_<Name>_<nnnn>"),
        ("53__0001.jpg", "empty person name"),
        ("53_Robert_De_Niro_.jpg", "no trailing image number"),
    ],
)
def test_cacd_malformed(name, detail):
    with pytest.raises(NameProblem, match="unparseable_name") as exc:
        cacd.parse_name(PurePosixPath(name))
    assert detail in str(exc.value)


def test_cacd_manifest_persons_rejects_and_order(tmp_path):
    images = [
        "53_Robert_De_Niro_0001.jpg",
        "60_Robert_De_Niro_0002.jpg",
        "55_Robert_De_Niro_0010.jpg",
        "23_Mary-Kate_Olsen_0003.jpg",
        "17_Mary-Kate_Olsen_0001.jpg",
        "35_Jean-Claude_Van_Damme_0012.jpg",
        "44_Jean-Claude_Van_Damme_0001.jpg",
    ]
    bad = {
        "Robert_De_Niro_0003.jpg": "unparseable_name",
        "53_Robert_De_Niro.jpg": "unparseable_name",
        "xx_Mary-Kate_Olsen_0004.jpg": "unparseable_name",
        "99_Mary-Kate_Olsen_0005.jpg": "unparseable_name",
        "celebrity2000.mat": "not_an_image_name",
        "README.txt": "not_an_image_name",
        ".DS_Store": "hidden_file",
        "Thumbs.db": "system_file",
    }
    # reversed creation order: the output must not depend on it
    for i, rel in enumerate(reversed(images + list(bad))):
        touch(tmp_path, rel, f"img{i}".encode())  # distinct bytes: no aliases
    man, rej = build_manifest("cacd", tmp_path, n_shards=3)

    assert list(man["image_id"]) == sorted(images)
    assert list(man["source"]) == sorted(images)
    assert man["path"].tolist() == [str(tmp_path / n) for n in sorted(images)]
    assert man["gender"].isna().all() and "race" not in man.columns
    by_person = man.groupby("person")["age"].apply(sorted).to_dict()
    assert by_person == {
        "Robert_De_Niro": [53, 55, 60],
        "Mary-Kate_Olsen": [17, 23],
        "Jean-Claude_Van_Damme": [35, 44],
    }
    assert str(man["age"].dtype) == "Int64"
    assert man["alias_of"].isna().all()
    assert sorted(man["shard"].value_counts().tolist()) == [2, 2, 3]

    reasons = dict(zip(rej["source"], rej["reason"].str.split(":").str[0], strict=True))
    assert reasons == bad
    assert list(rej.columns) == ["source", "path", "reason"]
    assert rej["path"].tolist() == sorted(rej["path"].tolist())

    again_man, again_rej = build_manifest("cacd", tmp_path, n_shards=3)
    assert again_man.equals(man) and again_rej.equals(rej)


def test_cacd_same_name_is_one_person_at_every_age_and_in_subfolders(tmp_path):
    for rel in [
        "a/20_Emma_Watson_0001.jpg",
        "b/23_Emma_Watson_0001.jpg",
        "21_Emma_Watson_0004.jpg",
    ]:
        touch(tmp_path, rel, rel.encode())
    man, rej = build_manifest("cacd", tmp_path)
    assert rej.empty
    assert man["person"].unique().tolist() == ["Emma_Watson"]
    assert man["image_id"].tolist() == [
        "21_Emma_Watson_0004.jpg",
        "a/20_Emma_Watson_0001.jpg",
        "b/23_Emma_Watson_0001.jpg",
    ]
    assert man["age"].tolist() == [21, 20, 23]


def test_cacd_registered_and_preset_validates():
    from snakemake.utils import validate

    assert ADAPTERS["cacd"] == "faceage.datasets.cacd"
    schema = ROOT / "workflow" / "schemas" / "config.schema.yaml"
    assert "cacd" in yaml.safe_load(schema.read_text())["properties"]["dataset_format"]["enum"]
    cfg = yaml.safe_load((ROOT / "config" / "cacd.yaml").read_text())
    validate(cfg, schema=str(schema))
    assert cfg["dataset_format"] == "cacd" and cfg["shards"] == 64
    assert cfg["comparisons"]["age_bins"][0] == 0
