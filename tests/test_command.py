"""The faceage command: what users run by hand (predict, protocol, review, estimate, step)."""

import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import need_shared
from PIL import Image

from faceage.command import main
from faceage.steps import REGISTRY, load_all

UTK = "datasets/utkface_small"


def test_every_rule_of_the_workflow_has_its_step():
    """Each rule that runs workflow/scripts/step.py or `faceage step` has a registered step."""
    import re

    from conftest import ROOT

    rules = set()
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        text = smk.read_text()
        for m in re.finditer(r"^\s*rule (\w+):(.*?)(?=^\s*rule |\Z)", text, re.S | re.M):
            if "scripts/step.py" in m.group(2) or "faceage step" in m.group(2):
                rules.add(m.group(1))
    assert len(rules) > 25
    assert rules <= set(load_all()), rules - set(REGISTRY)


@pytest.mark.shared
def test_predict_a_folder_of_unlabelled_photos(tmp_path, capsys):
    from conftest import SHARED

    folder = SHARED / UTK
    need_shared(folder)
    photos = tmp_path / "photos" / "sub"
    photos.mkdir(parents=True)
    for f in sorted(folder.iterdir())[:3]:
        (photos / f.name).symlink_to(f)
    (tmp_path / "photos" / "notes.txt").write_text("not an image")
    Image.new("RGB", (40, 40), "white").save(tmp_path / "photos" / "blank.png")
    out = tmp_path / "ages.tsv"
    assert main(["predict", str(tmp_path / "photos"), "--out", str(out)]) == 0
    t = pd.read_csv(out, sep="\t", keep_default_na=False)
    assert len(t) == 4  # three photos and the blank image; the text file is not an image
    faces = t[t["status"] == "ok"]
    assert len(faces) == 3 and faces["image"].str.startswith("sub/").all()
    assert faces["age_pred"].astype(float).between(1, 100).all()
    assert set(faces["gender_pred"]) <= {"M", "F"}
    assert t.loc[t["image"] == "blank.png", "status"].iloc[0] != "ok"  # no face: said, not lost
    assert "3 of 4 images predicted" in capsys.readouterr().err


def test_protocol_writes_the_config_of_its_run(tmp_path):
    images = tmp_path / "imgs"
    images.mkdir()
    for n in ("a1", "a2", "b1", "b2"):
        Image.new("RGB", (20, 20)).save(images / f"{n}.jpg")
    proto = tmp_path / "pairs.csv"
    proto.write_text("image_a,image_b,same\na1.jpg,a2.jpg,1\nb1.jpg,b2.jpg,1\na1.jpg,b1.jpg,0\n")
    cfg = tmp_path / "p.yaml"
    rc = main(
        ["protocol", str(proto), "--format", "csv", "--images", str(images), "--name", "mine"]
        + ["--out", str(cfg)]
    )
    assert rc == 0
    c = yaml.safe_load(cfg.read_text())
    assert c["dataset"] == "mine" and c["dataset_format"] == "protocol"
    assert c["protocols"] == [
        {"file": str(proto), "format": "csv", "name": "mine", "images": str(images)}
    ]


def test_review_apply_appends_verdicts(tmp_path):
    review = tmp_path / "review.tsv"
    pd.DataFrame(
        [
            {"image_id": "x.jpg", "reason": "gender", "field": "gender", "label": "M"}
            | {"predicted": "F", "verdict": "drop", "value": "", "note": ""},
            {"image_id": "y.jpg", "reason": "age", "field": "age", "label": "30"}
            | {"predicted": "60", "verdict": "", "value": "", "note": ""},
        ]
    ).to_csv(review, sep="\t", index=False)
    overrides = tmp_path / "overrides.tsv"
    assert main(["review", "apply", str(review), str(overrides)]) == 0
    lines = pd.read_csv(overrides, sep="\t", comment="#")
    assert lines["image_id"].tolist() == ["x.jpg"] and lines["action"].tolist() == ["drop"]


def test_estimate_without_a_run_says_what_is_missing(tmp_path, capsys):
    assert (
        main(
            ["estimate", "--dataset", "none", "--images", "10", "--shards", "2"]
            + ["--workdir", str(tmp_path)]
        )
        == 1
    )
    assert "no benchmarks/embed/none_*.tsv yet" in capsys.readouterr().err


def test_step_command_reports_an_unknown_rule_and_python_m_works():
    # an unknown rule takes the one failure path: a line naming it, the traceback, status 1
    res = subprocess.run(
        [sys.executable, "-m", "faceage", "step", "nope"], capture_output=True, text=True
    )
    assert res.returncode == 1
    assert "ERROR [nope]: KeyError: \"no step for rule 'nope'" in res.stderr
    assert "Traceback (most recent call last)" in res.stderr
    res = subprocess.run(
        [sys.executable, "-m", "faceage", "--help"], capture_output=True, text=True
    )
    assert res.returncode == 0 and "predict" in res.stdout and "estimate" in res.stdout
