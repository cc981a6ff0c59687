"""A new model from docs/architecture.md: one adapter file plus one registry line, and the
shared machinery does the rest - face choice, test-time flip, the no-face fallback's record,
provenance's test-time record (tests/helpers/pixels_model.py, 45 lines)."""

import sys
from pathlib import Path

import numpy as np
import pytest
from capabilities import need_module
from conftest import FGNET, need_shared

from faceage import models
from faceage.contracts import read_embeddings, write_manifest
from faceage.datasets import build_manifest
from faceage.embed import embed_shard, prepare

sys.path.insert(0, str(Path(__file__).parent / "helpers"))  # pixels_model


@pytest.mark.shared
def test_a_new_adapter_gets_every_shared_feature(tmp_path, monkeypatch):
    need_shared(FGNET)
    need_module("dlib", reason="dlib-bin is not installed in this environment")
    monkeypatch.setitem(models.MODELS, "pixels", "pixels_model")  # the one registry line
    images = tmp_path / "faces" / "001"
    images.mkdir(parents=True)
    for name, age in (("001A14.JPG", 14), ("001A16.JPG", 16)):
        (images / f"{age}.jpg").symlink_to(FGNET / name)
    blank = np.full((120, 120, 3), 128, np.uint8)  # no face: the fallback's last resort
    from PIL import Image

    Image.fromarray(blank).save(images / "30.png")
    man, _ = build_manifest("folders", tmp_path / "faces", 1)
    write_manifest(man, tmp_path / "m.tsv")
    out = {}
    for flip in (False, True):
        settings = {"flip": flip}
        info = prepare(
            "pixels", settings, tmp_path, tmp_path / "m.tsv", tmp_path / "s", tmp_path / "p"
        )
        assert info["test_time"] == {"flip": flip}
        embed_shard(
            "pixels",
            settings,
            tmp_path,
            tmp_path / "m.tsv",
            0,
            tmp_path / f"{flip}.npz",
            tmp_path / "s",
            fallback="aligned",
        )
        out[flip] = read_embeddings(tmp_path / f"{flip}.npz")
    plain, flipped = out[False], out[True]
    # no aligned-input mode of its own: the faceless image is left out, with the reason
    assert list(plain["route"]) == ["detected", "detected", ""]
    assert plain["status"][2].startswith("no_face; fallback failed")
    assert "no aligned-input mode" in plain["status"][2]
    assert (plain["n_faces"][:2] == 1).all() and np.isfinite(plain["centre_offset"][:2]).all()
    assert plain["vectors"].shape == (3, 24 * 24)
    assert not np.allclose(plain["vectors"][:2], flipped["vectors"][:2])  # flip is applied
