"""The backbone's two models through the real libraries: dlib (real weights) and eigenfaces."""

import numpy as np
import pytest
from capabilities import need_module  # noqa: E402
from conftest import FGNET, need_shared

from faceage.contracts import read_embeddings, write_manifest
from faceage.datasets import build_manifest
from faceage.embed import embed_shard, prepare
from faceage.models import get_adapter
from faceage.models.base import MissingWeightsError, WeightFile


def test_eigenfaces_prepare_and_embed(tmp_path):
    from faceage.demo import make_demo

    make_demo(tmp_path / "demo", persons=4, images_per_person=5, size=64)
    man, _ = build_manifest("folders", tmp_path / "demo", 2)
    write_manifest(man, tmp_path / "m.tsv")
    info = prepare(
        "eigenfaces",
        {"components": 8},
        tmp_path / "w",
        tmp_path / "m.tsv",
        tmp_path / "state",
        tmp_path / "p.json",
    )
    assert info["prepared"]["components"] == 8
    for shard in (0, 1):
        embed_shard(
            "eigenfaces",
            {"components": 8},
            tmp_path / "w",
            tmp_path / "m.tsv",
            shard,
            tmp_path / f"e{shard}.npz",
            tmp_path / "state",
        )
    e = read_embeddings(tmp_path / "e0.npz")
    assert e["vectors"].shape[1] == 8 and (e["status"] == "ok").all()


def test_missing_weights_message(tmp_path):
    adapter = get_adapter("dlib")
    err = MissingWeightsError(
        "x", [WeightFile(tmp_path / "w" / "model.onnx", "https://example.org/m.zip")]
    )
    msg = str(err)
    assert "model.onnx" in msg and str(tmp_path / "w") in msg and "https://example.org/m.zip" in msg
    assert adapter.env == "dlib"


@pytest.mark.shared
def test_dlib_real_weights_same_person_closer():
    need_shared(FGNET)
    need_module("dlib", reason="dlib-bin is not installed in this environment")
    from faceage.images import load_rgb

    adapter = get_adapter("dlib")
    emb = adapter.load({}, None, None)
    imgs = [load_rgb(FGNET / n) for n in ("001A14.JPG", "001A16.JPG", "002A15.JPG")]
    res = emb.embed_batch(imgs, [None, None, None])
    assert all(r.vector is not None and r.vector.shape == (128,) and r.n_faces >= 1 for r in res)
    v = np.stack([r.vector for r in res])
    d_same = np.linalg.norm(v[0] - v[1])
    d_other = np.linalg.norm(v[0] - v[2])
    assert d_same < d_other
