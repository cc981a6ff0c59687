"""The insightface model: adapter logic here, real runs in .venvs/insightface.

The real runs build a model pack in a temporary folder from ../shared's
SCRFD-500M and MobileFaceNet (symlinked there, never into the repo) and run
the workflow's embedding driver in the insightface venv on FG-NET people.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from model_env import SHARED_MODELS, auc, cosine_scores, fgnet_manifest, need_shared, run_in_env  # noqa: E402

from faceage.models import get_adapter  # noqa: E402
from faceage.models.base import MissingWeightsError  # noqa: E402
from faceage.models.insightface_pack import det_sizes, resolved  # noqa: E402


def test_registry_imports_without_insightface():
    adapter = get_adapter("insightface")
    assert adapter.env == "insightface"
    assert "insightface" not in sys.modules  # the heavy library is imported only when loading


def test_det_size_forms():
    assert det_sizes(320) == [(320, 320)]
    assert det_sizes([640, 480]) == [(640, 480)]
    assert det_sizes([[128, 128], [640, 640]]) == [(128, 128), (640, 640)]
    assert det_sizes([128, 320, 640]) == [(128, 128), (320, 320), (640, 640)]
    assert resolved({})["det_size"] == 320  # 640 loses ~40 % of FG-NET's faces


def test_missing_pack_names_file_folder_and_source(tmp_path):
    adapter = get_adapter("insightface")
    with pytest.raises(MissingWeightsError) as err:
        adapter.check_weights({}, tmp_path / "weights")
    msg = str(err.value)
    assert "det_10g.onnx" in msg and "w600k_r50.onnx" in msg
    assert str(tmp_path / "weights" / "insightface" / "models" / "buffalo_l") in msg
    assert "buffalo_l.zip" in msg


def test_unknown_empty_pack_is_reported(tmp_path):
    (tmp_path / "own" / "models" / "mypack").mkdir(parents=True)
    settings = {"pack": "mypack", "weights_dir": str(tmp_path / "own")}  # the per-model override
    with pytest.raises(MissingWeightsError, match=str(tmp_path / "own" / "models" / "mypack")):
        get_adapter("insightface").check_weights(settings, tmp_path)


def test_provenance_records_what_changes_embeddings(tmp_path):
    prov = get_adapter("insightface").provenance({"det_size": 256, "pad": 0.1}, tmp_path)
    assert prov["det_size"] == [[256, 256]]
    assert prov["pad"] == 0.1
    assert prov["settings"]["pack"] == "buffalo_l"
    for key in ("alignment", "colour_order", "providers", "packages", "pack_dir"):
        assert key in prov


def small_pack(tmp_path: Path) -> Path:
    """<tmp>/weights/insightface/models/testpack/{scrfd_500m_bnkps,mobilefacenet}.onnx.

    The files are symlinks.
    """
    need_shared("models")
    pack = tmp_path / "weights" / "insightface" / "models" / "testpack"
    pack.mkdir(parents=True)
    for name in ("scrfd_500m_bnkps.onnx", "mobilefacenet.onnx"):
        (pack / name).symlink_to(SHARED_MODELS / name)
    return tmp_path / "weights"


@pytest.mark.shared
def test_fgnet_genuine_pairs_separate_from_impostors(tmp_path):
    weights = small_pack(tmp_path)
    manifest = fgnet_manifest(tmp_path / "manifest.tsv", persons=20, seed=1)
    emb = run_in_env(
        "insightface",
        "insightface",
        {"pack": "testpack"},
        weights,
        tmp_path / "manifest.tsv",
        tmp_path / "out",
    )
    assert emb["vectors"].shape == (len(manifest), 128)  # MobileFaceNet is 128-d
    n_ok = int((emb["status"] == "ok").sum())
    assert n_ok >= len(manifest) - 1, "det_size 320 should find (almost) every FG-NET face"
    genuine, impostor = cosine_scores(emb["vectors"], emb["image_id"], manifest, max_gap=5)
    assert len(genuine) > 100 and len(impostor) > 10000
    assert auc(genuine, impostor) > 0.9
    prov = emb["provenance"]
    assert prov["det_size"] == [[320, 320]]
    assert sorted(prov["pack_files"]) == ["mobilefacenet.onnx", "scrfd_500m_bnkps.onnx"]
    assert prov["pack_files"]["mobilefacenet.onnx"]["sha256"].startswith(
        "0c9ad2a8"
    )  # ../shared's file
    assert prov["packages"]["insightface"] == "2.1"


@pytest.mark.shared
def test_det_size_640_loses_tightly_cropped_faces(tmp_path):
    """Why the default is 320: at 640 SCRFD misses many of FG-NET's tightly cropped faces."""
    weights = small_pack(tmp_path)
    manifest = fgnet_manifest(tmp_path / "manifest.tsv", persons=5, seed=2)
    emb = run_in_env(
        "insightface",
        "insightface",
        {"pack": "testpack", "det_size": 640},
        weights,
        tmp_path / "manifest.tsv",
        tmp_path / "out",
    )
    missed = int((emb["status"] == "no_face").sum())
    assert missed >= 0.15 * len(manifest), f"only {missed}/{len(manifest)} missed at 640"
    assert emb["provenance"]["det_size"] == [[640, 640]]


@pytest.mark.slow  # over 15 s on 2 cores (tests/README.md)
@pytest.mark.shared
def test_second_scrfd_pass_rescues_missed_faces_closer_than_the_centre_crop(tmp_path):
    """The aligned no-face fallback for insightface: where SCRFD at 640 misses FG-NET's
    tightly cropped faces, a second pass (threshold 0.1, padded image) finds most, and their
    vectors are nearer the detected ones (det_size 320) than the unaligned centre crop's.
    With flip, provenance says so."""
    weights = small_pack(tmp_path)
    fgnet_manifest(tmp_path / "manifest.tsv", persons=5, seed=2)
    man = tmp_path / "manifest.tsv"
    ref = run_in_env(
        "insightface", "insightface", {"pack": "testpack"}, weights, man, tmp_path / "r"
    )
    at640 = {"pack": "testpack", "det_size": 640}
    runs = {
        mode: run_in_env(
            "insightface", "insightface", at640, weights, man, tmp_path / mode, fallback=mode
        )
        for mode in ("centre_crop", "aligned")
    }
    missed = runs["centre_crop"]["route"] == "fallback_crop"
    assert missed.sum() >= 5
    rescued = runs["aligned"]["route"][missed]
    assert (rescued == "fallback_aligned").mean() >= 0.8, rescued
    found = (ref["status"] == "ok") & missed

    def cos(a, b):
        a, b = a[found], b[found]
        return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)

    old = cos(runs["centre_crop"]["vectors"], ref["vectors"])
    new = cos(runs["aligned"]["vectors"], ref["vectors"])
    assert np.median(new) > np.median(old) + 0.05, (np.median(new), np.median(old))
    flipped = run_in_env(
        "insightface",
        "insightface",
        {"pack": "testpack", "flip": True},
        weights,
        man,
        tmp_path / "flip",
    )
    assert flipped["provenance"]["test_time"] == {"flip": True}
    assert ref["provenance"]["test_time"] == {"flip": False}


@pytest.mark.shared
def test_vectors_equal_faceanalysis_get(tmp_path):
    """For the same pixels, the adapter's vectors are
    FaceAnalysis.get(img)[largest].normed_embedding (within 1e-5 cosine): a colour-order,
    alignment or normalisation slip cannot hide behind an AUC."""
    from model_env import assert_same_vectors, reference_in_env

    weights = small_pack(tmp_path)
    fgnet_manifest(tmp_path / "manifest.tsv", persons=3, seed=4)
    settings = {"pack": "testpack"}
    ours = run_in_env(
        "insightface", "insightface", settings, weights, tmp_path / "manifest.tsv", tmp_path / "out"
    )
    ref = reference_in_env(
        "insightface",
        "insightface",
        settings,
        weights,
        tmp_path / "manifest.tsv",
        tmp_path / "ref.npz",
    )
    assert assert_same_vectors(ours, ref) >= 20
