"""Cleaning rules, in order, each with its reason; overrides applied reproducibly."""

import pandas as pd
import pytest

from faceage.clean import clean_manifest
from faceage.contracts.overrides import read_overrides


def make(n_per_person=(3, 3, 1)):
    rows = []
    for p, n in enumerate(n_per_person):
        for k in range(n):
            rows.append(
                {
                    "image_id": f"p{p}_{k}.jpg",
                    "path": f"/x/p{p}_{k}.jpg",
                    "person": f"p{p}",
                    "age": 10 + k,
                    "gender": "M",
                    "source": f"p{p}_{k}.jpg",
                    "shard": 0,
                }
            )
    man = pd.DataFrame(rows)
    man["age"] = man["age"].astype("Int64")
    insp = pd.DataFrame(
        {
            "image_id": man["image_id"],
            "status": "ok",
            "width": 100,
            "height": 100,
            "sha256": [f"h{i}" for i in range(len(man))],
            "n_faces": 1,
            "face_left": 10.0,
            "face_top": 10.0,
            "face_right": 60.0,
            "face_bottom": 60.0,
            "face_score": 1.0,
        }
    )
    return man, insp


def reasons(report):
    return dict(zip(report["image_id"], report["reason"], strict=True))


def test_each_rule_removes_with_its_reason():
    man, insp = make((4, 3, 1))
    man.loc[1, "age"] = 150
    insp.loc[2, ["status", "detail"]] = ["undecodable", "broken"]
    insp.loc[5, "sha256"] = insp.loc[4, "sha256"]  # p1_0 and p1_1: identical bytes
    insp.loc[6, "n_faces"] = 0  # p1_2
    clean, rep = clean_manifest(man, insp, min_images_per_person=2, multi_face="drop")
    r = reasons(rep)
    assert r["p0_1.jpg"] == "impossible_age"
    assert r["p0_2.jpg"] == "undecodable"
    assert rep.set_index("image_id").at["p0_2.jpg", "detail"] == "broken"
    assert r["p1_2.jpg"] == "no_face"
    # p1_1 is a copy of p1_0: one distinct photo left, so both go as too_few_images
    assert r["p1_0.jpg"] == "too_few_images" and r["p1_1.jpg"] == "too_few_images"
    assert "1 < 2 distinct" in rep.set_index("image_id").at["p1_1.jpg", "detail"]
    assert r["p2_0.jpg"] == "too_few_images"
    assert set(clean["image_id"]) == {"p0_0.jpg", "p0_3.jpg"}
    assert (rep["action"] == "removed").all()


def test_copies_are_aliases_not_rejects():
    """Byte-identical files stay, as aliases of the first image id.

    Distinct photos are what counts.
    """
    man, insp = make((3, 2))
    insp.loc[1, "sha256"] = insp.loc[0, "sha256"]  # p0_1 is a copy of p0_0
    clean, rep = clean_manifest(man, insp, min_images_per_person=2)
    assert len(clean) == 5
    alias = clean.set_index("image_id")["alias_of"]
    assert alias["p0_1.jpg"] == "p0_0.jpg" and alias.drop("p0_1.jpg").isna().all()
    assert rep[["image_id", "action", "reason"]].values.tolist() == [
        ["p0_1.jpg", "alias", "duplicate_content"]
    ]
    # a removed original hands over to its first copy
    man.loc[0, "age"] = 150
    clean, rep = clean_manifest(man, insp, min_images_per_person=1)
    assert (
        "p0_0.jpg" not in set(clean["image_id"])
        and clean.set_index("image_id").at["p0_1.jpg", "alias_of"] is pd.NA
    )
    # a protocol run (keep_all) removes nothing and flags what it found
    clean, rep = clean_manifest(man, insp, min_images_per_person=5, keep_all=True)
    assert len(clean) == 5 and not (rep["action"] == "removed").any()
    assert set(rep.loc[rep["action"] == "flagged", "reason"]) == {"impossible_age"}


def test_several_faces_policy():
    man, insp = make((3,))
    insp.loc[0, "n_faces"] = 2
    clean, rep = clean_manifest(man, insp, min_images_per_person=1, multi_face="largest")
    assert (
        len(clean) == 3
        and rep["action"].tolist() == ["flagged"]
        and rep["reason"].tolist() == ["several_faces"]
    )
    clean, rep = clean_manifest(man, insp, min_images_per_person=1, multi_face="drop")
    assert len(clean) == 2 and rep["action"].tolist() == ["removed"]


def test_no_detector_skips_face_checks():
    man, insp = make((3,))
    insp["n_faces"] = pd.NA
    clean, rep = clean_manifest(man, insp, min_images_per_person=1, detector_used=False)
    assert len(clean) == 3 and rep.empty


def test_overrides_drop_and_relabel(tmp_path):
    man, insp = make((3, 3))
    f = tmp_path / "overrides.tsv"
    f.write_text(
        "# comment\nimage_id\taction\tfield\tvalue\tnote\n"
        "p0_0.jpg\tdrop\t\t\tblurred\n"
        "p1_0.jpg\trelabel\tgender\tF\tchecked\n"
        "p1_1.jpg\trelabel\tage\t40\t\n"
        "ghost.jpg\tdrop\t\t\t\n"
    )
    ov = read_overrides(f)
    clean, rep = clean_manifest(man, insp, ov, min_images_per_person=1)
    assert "p0_0.jpg" not in set(clean["image_id"])
    c = clean.set_index("image_id")
    assert c.loc["p1_0.jpg", "gender"] == "F" and c.loc["p1_1.jpg", "age"] == 40
    r = rep.set_index("image_id")
    assert r.loc["p0_0.jpg", "reason"] == "manual_drop"
    assert r.loc["p1_1.jpg", "detail"].startswith("age: 11 -> 40")
    assert r.loc["ghost.jpg", "action"] == "ignored"
    # same inputs, same outputs
    clean2, rep2 = clean_manifest(man, insp, read_overrides(f), min_images_per_person=1)
    pd.testing.assert_frame_equal(clean, clean2)
    pd.testing.assert_frame_equal(rep, rep2)


def test_overrides_validation(tmp_path):
    f = tmp_path / "o.tsv"
    f.write_text("image_id\taction\tfield\tvalue\tnote\na.jpg\tdelete\t\t\t\n")
    with pytest.raises(ValueError, match="drop or relabel"):
        read_overrides(f)
    f.write_text("image_id\taction\tfield\tvalue\tnote\na.jpg\trelabel\tname\tx\t\n")
    with pytest.raises(ValueError, match="relabel field"):
        read_overrides(f)
    assert read_overrides(tmp_path / "absent.tsv").empty
