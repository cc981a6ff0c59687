"""Which face is the subject's (face_choice), the aligned no-face fallback and test-time flip."""

from __future__ import annotations

import numpy as np
import pytest
from capabilities import need_module
from conftest import FGNET, need_shared

from faceage.models.base import Face as F
from faceage.models.base import FaceChoice, centre_offset, centred


def _cos(a, b) -> float:
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


# ---- the policy on boxes -----------------------------------------------------------------


def test_centre_takes_the_face_nearest_the_centre_among_faces_of_a_reasonable_size():
    shape = (400, 600, 3)  # the centre is (300, 200)
    subject = F(260, 160, 340, 240)  # 80 px, centred
    bystander = F(0, 0, 150, 150)  # 150 px, off-centre
    speck = F(290, 190, 310, 210)  # 20 px, right at the centre: a poster, a face far behind
    faces = [bystander, subject, speck]
    assert FaceChoice("centre").choose(faces, shape) == (subject, "ok")
    assert FaceChoice("largest").choose(faces, shape) == (bystander, "ok")
    assert FaceChoice("drop").choose(faces, shape) == (None, "several_faces")
    assert FaceChoice("centre").choose([], shape) == (None, "no_face")
    assert FaceChoice("drop").choose([subject], shape) == (subject, "ok")
    # a face under half the largest side never wins, however central
    assert centred([F(0, 0, 200, 200), F(280, 180, 320, 220)], shape) == F(0, 0, 200, 200)
    assert centre_offset(subject, shape) == 0.0
    assert centre_offset(bystander, shape) == pytest.approx(np.hypot(225, 125))
    with pytest.raises(ValueError, match="face choice"):
        FaceChoice("biggest")


def test_fallback_box_is_sized_like_the_datasets_faces():
    import pandas as pd

    from faceage.embed import guessed_box, typical_face

    # the cleaning detector's boxes over the whole manifest: 100 px at (90, 100) of 250x250
    rows = pd.DataFrame(
        {
            "face_left": [40.0] * 5 + [None],
            "face_top": [50.0] * 5 + [None],
            "face_right": [140.0] * 5 + [None],
            "face_bottom": [150.0] * 5 + [None],
            "width": [250] * 6,
            "height": [250] * 6,
        }
    )
    typical = typical_face(rows)
    assert typical == pytest.approx((0.36, 0.4, 0.4))
    box = guessed_box(typical, (500, 500, 3), fallback_crop=1.0)
    assert (box.left, box.top, box.right, box.bottom) == pytest.approx((80, 100, 280, 300))
    assert typical_face(rows.iloc[1:]) is None  # too few faces: a centred square
    few = guessed_box(None, (200, 300, 3), fallback_crop=0.5)
    assert (few.left, few.top, few.right, few.bottom) == pytest.approx((100, 50, 200, 150))
    assert typical_face(rows.drop(columns="width")) is None


# ---- real faces ---------------------------------------------------------------------------

SUBJECT, OTHER = "001A14.JPG", "002A15.JPG"


def _composite(subject: np.ndarray | None, other: np.ndarray | None) -> np.ndarray:
    """A 900x500 grey canvas: ``subject`` 240 px high at the centre, ``other`` 1.6 times as
    large at the left edge (either may be left out)."""
    from PIL import Image

    canvas = Image.new("RGB", (900, 500), (128, 128, 128))
    if other is not None:
        o = Image.fromarray(other)
        o = o.resize((int(o.width * 384 / o.height), 384))
        canvas.paste(o, (0, 500 - 384))
    if subject is not None:
        s = Image.fromarray(subject)
        s = s.resize((int(s.width * 240 / s.height), 240))
        canvas.paste(s, ((900 - s.width) // 2, (500 - 240) // 2))
    return np.asarray(canvas)


@pytest.fixture(scope="module")
def composites():
    need_shared(FGNET)
    need_module("dlib", reason="dlib-bin is not installed in this environment")
    from faceage.images import load_rgb

    subject, other = load_rgb(FGNET / SUBJECT), load_rgb(FGNET / OTHER)
    return _composite(subject, other), _composite(subject, None), _composite(None, other)


@pytest.mark.shared
def test_centre_embeds_the_subject_and_largest_the_bystander(composites):
    """dlib's own detector on a photo of the subject with a larger bystander off-centre."""
    from faceage.models import get_adapter

    both, alone, bystander = composites
    vec = {}
    for mode in ("centre", "largest"):
        emb = get_adapter("dlib").load({"multi_face": mode}, None, None)
        r_both, r_alone, r_other = emb.embed_batch([both, alone, bystander], [None] * 3)
        assert r_both.n_faces == 2 and r_alone.n_faces == 1 and r_other.n_faces == 1
        vec[mode] = r_both.vector
    assert _cos(vec["centre"], r_alone.vector) >= 0.99
    assert _cos(vec["largest"], r_alone.vector) < 0.9
    assert _cos(vec["largest"], r_other.vector) >= 0.99


@pytest.mark.shared
def test_clean_stage_keeps_the_subjects_box(composites, tmp_path):
    """The clean stage's box (which dlib reuses) follows the same policy."""
    import pandas as pd
    from PIL import Image

    from faceage.clean import inspect_images
    from faceage.detection import DlibDetector
    from faceage.models.base import Face

    both, alone, _ = composites
    Image.fromarray(both).save(tmp_path / "both.png")
    manifest = pd.DataFrame({"image_id": ["both.png"], "path": [str(tmp_path / "both.png")]})
    det = DlibDetector("hog", 1)
    (subject,) = det(alone)
    for mode, expect_subject in (("centre", True), ("largest", False)):
        row = inspect_images(manifest, det, face_choice=mode).iloc[0]
        box = Face(row.face_left, row.face_top, row.face_right, row.face_bottom)
        assert row.n_faces == 2
        same = np.allclose(box.as_box(), subject.as_box(), atol=3)
        assert same == expect_subject, (mode, box, subject)


def test_flip_adds_the_mirror_images_embedding(tmp_path):
    """eigenfaces (a model whose output for an image and its mirror can be computed apart):
    the flip setting gives v(image) + v(mirror), and provenance says so."""
    import json

    from faceage.contracts import read_embeddings, write_manifest
    from faceage.datasets import build_manifest
    from faceage.demo import make_demo
    from faceage.embed import embed_shard, prepare
    from faceage.images import load_rgb
    from faceage.models import get_adapter
    from faceage.models.base import mirror

    make_demo(tmp_path / "demo", persons=4, images_per_person=4, size=64)
    man, _ = build_manifest("folders", tmp_path / "demo", 1)
    write_manifest(man, tmp_path / "m.tsv")
    settings = {"components": 6, "flip": True}
    info = prepare(
        "eigenfaces", settings, tmp_path / "w", tmp_path / "m.tsv", tmp_path / "s", tmp_path / "p"
    )
    assert info["test_time"] == {"flip": True}
    assert json.loads((tmp_path / "p").read_text())["test_time"]["flip"] is True
    embed_shard(
        "eigenfaces",
        settings,
        tmp_path / "w",
        tmp_path / "m.tsv",
        0,
        tmp_path / "e.npz",
        tmp_path / "s",
    )
    got = read_embeddings(tmp_path / "e.npz")
    plain = get_adapter("eigenfaces").load({"components": 6}, tmp_path / "w", tmp_path / "s")
    first = man.sort_values("image_id").iloc[0]
    image = load_rgb(first["path"])
    (a,), (b,) = plain.embed_batch([image], [None]), plain.embed_batch([mirror(image)], [None])
    assert not np.allclose(a.vector, b.vector)  # the mirror is another image to the model
    row = list(got["image_id"]).index(first["image_id"])
    np.testing.assert_allclose(got["vectors"][row], a.vector + b.vector, rtol=1e-5, atol=1e-5)


@pytest.mark.slow  # over 15 s on 2 cores (tests/README.md)
@pytest.mark.shared
def test_aligned_fallback_is_closer_to_the_detected_vector_than_the_centre_crop(tmp_path):
    """FG-NET faces cropped until HOG loses them (scripts/bench_fallback.py, first 30 images):
    the aligned fallback's vectors are clearly nearer the detected path's than the old
    unaligned centre crop's (the whole set's figures are in docs/models.md)."""
    import json
    import subprocess
    import sys

    from conftest import ROOT

    need_shared(FGNET)
    need_module("dlib", reason="dlib-bin is not installed in this environment")
    out = tmp_path / "fallback.json"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_fallback.py"), "--images", "30"]
        + ["--fgnet", str(FGNET), "--json", str(out)],
        check=True,
        timeout=900,
    )
    got = json.loads(out.read_text())
    old, new = got["centre_crop"], got["aligned"]
    assert got["cropped_until_lost"] >= 25 and old["n"] == new["n"] == got["cropped_until_lost"]
    assert new["routes"] == {"fallback_aligned": new["n"]}
    assert old["routes"] == {"fallback_crop": old["n"]}
    assert new["median"] > old["median"] + 0.02
    assert new["p05"] > old["p05"] + 0.02
