"""The insightface_paddle model: adapter logic here, real runs in .venvs/paddle.

The real runs use small random inference models saved by paddle itself
(FLAGS_enable_pir_api=0) into local model folders, loaded and run by the
insightface-paddle package's own predictor (InsightFace.predict_np_img).
They need no ../shared: the images are made here.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from model_env import env_python, plain_manifest, run_in_env  # noqa: E402

from faceage.models import get_adapter  # noqa: E402
from faceage.models.base import MissingWeightsError  # noqa: E402

HELPERS = Path(__file__).parent / "helpers"


def test_registry_imports_without_paddle():
    adapter = get_adapter("insightface_paddle")
    assert adapter.env == "paddle"
    assert "paddle" not in sys.modules


def test_missing_weights_name_files_folders_and_sources(tmp_path):
    with pytest.raises(MissingWeightsError) as err:
        get_adapter("insightface_paddle").check_weights({}, tmp_path)
    msg = str(err.value)
    assert msg.count("- inference.pdmodel: expected in folder") == 2
    assert msg.count("- inference.pdiparams: expected in folder") == 2
    assert str(tmp_path / "insightface_paddle" / "MobileFace") in msg
    assert str(tmp_path / "insightface_paddle" / "BlazeFace") in msg
    assert "mobileface_v1.0_infer.tar" in msg and "blazeface_fpn_ssh_1000e_v1.0_infer.tar" in msg


def test_no_detector_needs_only_the_recogniser(tmp_path):
    files = get_adapter("insightface_paddle").required_files({"det_model": "none"}, tmp_path)
    assert {f.path.parent.name for f in files} == {"MobileFace"}


def test_eye_alignment_puts_both_eyes_on_the_template():
    from faceage.detection import ARCFACE_EYES, eye_alignment

    rng = np.random.default_rng(1)
    for _ in range(20):
        eyes = np.sort(rng.uniform(0, 400, (2, 2)), axis=0)
        m = eye_alignment(eyes)
        moved = np.c_[eyes, np.ones(2)] @ m.T
        assert np.allclose(moved, ARCFACE_EYES)
        # a similarity: same scale on both axes, no shear
        assert np.isclose(m[0, 0], m[1, 1]) and np.isclose(m[0, 1], -m[1, 0])
    with pytest.raises(ValueError, match="one point"):
        eye_alignment(np.array([[5.0, 5.0], [5.0, 5.0]]))


def test_clean_box_settings_and_provenance(tmp_path):
    adapter = get_adapter("insightface_paddle")
    files = adapter.required_files({"det_model": "clean"}, tmp_path)
    assert {f.path.parent.name for f in files} == {"MobileFace"}  # no detector weights
    prov = adapter.provenance({"det_model": "clean"}, tmp_path)
    assert prov["detector"] == "the cleaning stage's face box"
    assert prov["alignment"].startswith("eyes: dlib 5-point")
    prov = adapter.provenance({"det_model": "clean", "align": "none", "box_margin": 0.1}, tmp_path)
    assert "box grown by 0.1" in prov["alignment"]


@pytest.fixture(scope="module")
def paddle_setup(tmp_path_factory):
    """Random TinyRec/TinyDet models (saved by paddle) and 6 noise images + one exact copy."""
    py = env_python("paddle")
    root = tmp_path_factory.mktemp("paddle")
    weights = root / "weights"
    subprocess.run(
        [str(py), str(HELPERS / "write_paddle_models.py"), str(weights / "insightface_paddle")],
        check=True,
        capture_output=True,
        text=True,
    )
    rng = np.random.default_rng(0)
    images = []
    for i in range(6):
        p = root / f"img{i}.png"
        Image.fromarray((rng.random((120 + 10 * i, 100 + 7 * i, 3)) * 255).astype(np.uint8)).save(p)
        images.append(p)
    shutil.copy(images[0], root / "copy0.png")
    images.append(root / "copy0.png")
    plain_manifest(root / "manifest.tsv", images, [f"p{i}" for i in range(len(images))])
    return root, weights


@pytest.mark.e2e
def test_detector_and_recogniser_through_package_predictor(paddle_setup, tmp_path):
    root, weights = paddle_setup
    settings = {"rec_model": "TinyRec", "det_model": "TinyDet", "det_thresh": 0.0}
    emb = run_in_env(
        "paddle", "insightface_paddle", settings, weights, root / "manifest.tsv", tmp_path
    )
    assert (emb["status"] == "ok").all()
    v = emb["vectors"]
    assert v.shape == (7, 128) and np.isfinite(v).all()
    assert np.array_equal(v[0], v[6])  # the same pixels give the same vector
    assert np.linalg.matrix_rank(v[:6]) == 6
    # TinyDet's box is the central 60 % x 70 % of the original image (img0 is 100 x 120)
    np.testing.assert_allclose(emb["box"][0], [20, 18, 80, 102], atol=0.5)
    assert (emb["n_faces"] == 1).all()
    prov = emb["provenance"]
    assert prov["det_size"] == [640, 640] and prov["flags"] == {"FLAGS_enable_pir_api": "0"}
    assert prov["packages"]["insightface-paddle"] == "2.0.0"
    assert set(prov["weights"]["TinyRec"]) == {"inference.pdmodel", "inference.pdiparams"}


@pytest.mark.e2e
def test_detector_threshold_and_whole_image_mode(paddle_setup, tmp_path):
    root, weights = paddle_setup
    strict = run_in_env(
        "paddle",
        "insightface_paddle",
        {"rec_model": "TinyRec", "det_model": "TinyDet", "det_thresh": 0.99},
        weights,
        root / "manifest.tsv",
        tmp_path / "strict",
    )
    assert (strict["status"] == "no_face").all()  # TinyDet's scores are about 0.5
    whole = run_in_env(
        "paddle",
        "insightface_paddle",
        {"rec_model": "TinyRec", "det_model": "none"},
        weights,
        root / "manifest.tsv",
        tmp_path / "whole",
    )
    assert (whole["status"] == "ok").all() and (whole["n_faces"] == -1).all()
    np.testing.assert_allclose(whole["box"][0], [0, 0, 100, 120])
    assert whole["provenance"]["detector"] == "none (whole image)"
