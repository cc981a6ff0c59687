"""The deepface model: adapter logic here, real runs in .venvs/deepface.

Real runs: deepface's Dlib model with its dlib detector, using dlib's real
weights from the face-recognition-models package placed (symlinked) under a
temporary DEEPFACE_HOME, on FG-NET people; and ArcFace with a weight file
written by deepface's own model builder (random init) to prove the 512-d path.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from model_env import (  # noqa: E402
    auc,
    cosine_scores,
    env_python,
    fgnet_manifest,
    link_deepface_dlib_weights,
    need_shared,
    plain_manifest,
    run_in_env,
)

from faceage.contracts import read_manifest, write_manifest  # noqa: E402
from faceage.models import get_adapter  # noqa: E402
from faceage.models.base import MissingWeightsError  # noqa: E402
from faceage.models.deepface_model import is_stand_in, needed_files  # noqa: E402

HELPERS = Path(__file__).parent / "helpers"


def test_registry_imports_without_deepface():
    adapter = get_adapter("deepface")
    assert adapter.env == "deepface"
    assert "deepface" not in sys.modules and "tensorflow" not in sys.modules


def test_needed_files_follow_model_detector_and_backend():
    assert [f for f, _ in needed_files({})] == [
        "arcface_weights.h5"
    ]  # ArcFace + opencv (cascades ship)
    assert [f for f, _ in needed_files({"backend": "onnx"})] == ["arcface_weights.onnx"]
    assert [f for f, _ in needed_files({"model_name": "Dlib", "detector_backend": "dlib"})] == [
        "dlib_face_recognition_resnet_model_v1.dat",
        "shape_predictor_5_face_landmarks.dat",
    ]


def test_missing_weights_name_file_folder_and_source(tmp_path):
    with pytest.raises(MissingWeightsError) as err:
        get_adapter("deepface").check_weights({}, tmp_path)
    msg = str(err.value)
    assert "arcface_weights.h5" in msg
    assert str(tmp_path / "deepface" / ".deepface" / "weights") in msg
    assert "deepface_models/releases" in msg


def test_stand_in_region_is_not_a_face():
    stand_in = {
        "facial_area": {"x": 0, "y": 0, "w": 99, "h": 79, "left_eye": None, "right_eye": None},
        "face_confidence": 0,
    }
    assert is_stand_in(stand_in, 100, 80)
    real = {
        "facial_area": {
            "x": 0,
            "y": 0,
            "w": 99,
            "h": 79,
            "left_eye": (30, 30),
            "right_eye": (60, 30),
        },
        "face_confidence": 0.9,
    }
    assert not is_stand_in(real, 100, 80)


def test_provenance_records_detector_backend_and_versions(tmp_path):
    prov = get_adapter("deepface").provenance({"detector_backend": "dlib"}, tmp_path)
    assert prov["detector"] == "dlib" and prov["backend"] == "tensorflow"
    assert prov["settings"]["model_name"] == "ArcFace"
    for key in ("alignment", "normalization", "colour_order", "packages", "weights"):
        assert key in prov


def dlib_weights_home(tmp_path: Path) -> Path:
    """A DEEPFACE_HOME whose weights are dlib's real files from face-recognition-models."""
    return link_deepface_dlib_weights(tmp_path)


@pytest.mark.slow  # over 15 s on 2 cores (tests/README.md)
@pytest.mark.shared
def test_dlib_model_on_fgnet_and_faceless_image(tmp_path):
    home = dlib_weights_home(tmp_path)
    manifest = fgnet_manifest(tmp_path / "manifest.tsv", persons=4, seed=1)
    grey = tmp_path / "grey.png"  # no face: must come back as no_face, not as an embedding
    Image.fromarray(np.full((240, 200, 3), 128, np.uint8)).save(grey)
    m = read_manifest(tmp_path / "manifest.tsv")
    m.loc[len(m)] = {
        **m.iloc[0].to_dict(),
        "image_id": "grey",
        "path": str(grey),
        "source": "grey.png",
        "person": "999",
    }
    write_manifest(m, tmp_path / "manifest.tsv")
    settings = {"model_name": "Dlib", "detector_backend": "dlib", "weights_dir": str(home)}
    emb = run_in_env(
        "deepface",
        "deepface",
        settings,
        tmp_path / "unused",
        tmp_path / "manifest.tsv",
        tmp_path / "out",
        batch_size=16,
    )
    status = dict(zip(emb["image_id"], emb["status"], strict=True))
    assert status["grey"] == "no_face"
    assert emb["vectors"].shape[1] == 128
    assert sum(s == "ok" for s in status.values()) >= 0.85 * len(manifest)
    genuine, impostor = cosine_scores(emb["vectors"], emb["image_id"], m, max_gap=5)
    assert len(genuine) > 30
    assert auc(genuine, impostor) > 0.9
    assert emb["provenance"]["detector"] == "dlib"
    assert (
        emb["provenance"]["weights"]["dlib_face_recognition_resnet_model_v1.dat"]["bytes"]
        > 20_000_000
    )


@pytest.mark.shared
def test_arcface_512_d_path_with_builder_written_weights(tmp_path):
    py = env_python("deepface")
    home = tmp_path / "weights" / "deepface"  # the default DEEPFACE_HOME under the weights root
    subprocess.run(
        [str(py), str(HELPERS / "write_deepface_weights.py"), str(home), "ArcFace"],
        check=True,
        capture_output=True,
        text=True,
    )
    fgnet = need_shared("datasets", "fgnet")
    images = sorted(fgnet.glob("00[12]A*.JPG"))[:6]
    plain_manifest(tmp_path / "manifest.tsv", images, [p.name[:3] for p in images])
    emb = run_in_env(
        "deepface",
        "deepface",
        {"detector_backend": "opencv"},
        tmp_path / "weights",
        tmp_path / "manifest.tsv",
        tmp_path / "out",
        batch_size=4,
    )
    ok = emb["status"] == "ok"
    assert ok.sum() >= 4
    v = emb["vectors"][ok]
    assert v.shape[1] == 512 and np.isfinite(v).all()
    assert np.linalg.matrix_rank(v) == len(v)  # distinct images give distinct vectors
    assert emb["provenance"]["settings"]["model_name"] == "ArcFace"
    assert emb["provenance"]["packages"]["tf-keras"] == "2.21.0"


@pytest.mark.slow  # over 15 s on 2 cores (tests/README.md)
@pytest.mark.shared
def test_vectors_equal_deepface_represent(tmp_path):
    """For the same pixels, the adapter's batched vectors equal DeepFace.represent with the same
    model, detector and alignment settings, image by image (within 1e-5 cosine)."""
    from model_env import assert_same_vectors, reference_in_env

    home = dlib_weights_home(tmp_path)
    fgnet_manifest(tmp_path / "manifest.tsv", persons=2, seed=3)
    settings = {"model_name": "Dlib", "detector_backend": "dlib", "weights_dir": str(home)}
    ours = run_in_env(
        "deepface",
        "deepface",
        settings,
        tmp_path / "unused",
        tmp_path / "manifest.tsv",
        tmp_path / "out",
        batch_size=8,
    )
    ref = reference_in_env(
        "deepface",
        "deepface",
        settings,
        tmp_path / "unused",
        tmp_path / "manifest.tsv",
        tmp_path / "ref.npz",
    )
    assert assert_same_vectors(ours, ref) >= 10
