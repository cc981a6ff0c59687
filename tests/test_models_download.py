"""The weight downloader (download_weights rule), offline through file:// URLs."""

import bz2
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from faceage.models import download as dl
from faceage.models import insightface_pack, paddle_model
from faceage.models.download import Download, download_model, unpack


def test_unpack_kinds(tmp_path):
    src = tmp_path / "src"
    (src / "pack").mkdir(parents=True)
    for name in ("det.onnx", "rec.onnx", "readme.txt"):
        (src / "pack" / name).write_bytes(name.encode())
    with zipfile.ZipFile(tmp_path / "p.zip", "w") as zf:
        for p in (src / "pack").iterdir():
            zf.write(p, f"pack/{p.name}")
    got = unpack(Download("x", tmp_path / "z", "zip", ("*.onnx",)), tmp_path / "p.zip")
    assert sorted(p.name for p in got) == ["det.onnx", "rec.onnx"]
    with tarfile.open(tmp_path / "m.tar", "w") as tf:
        tf.add(src / "pack" / "det.onnx", "model_infer/inference.pdmodel")
    with pytest.raises(RuntimeError, match="inference.pdiparams"):
        unpack(
            Download("x", tmp_path / "t", "tar", ("inference.pdmodel", "inference.pdiparams")),
            tmp_path / "m.tar",
        )
    (tmp_path / "w.bz2").write_bytes(bz2.compress(b"weights"))
    (out,) = unpack(Download("x", tmp_path / "b", "bz2", ("w.dat",)), tmp_path / "w.bz2")
    assert out.read_bytes() == b"weights"


def test_interrupted_unpack_leaves_no_weight_file_under_its_name(tmp_path):
    """A weight file counts as present once it exists: a half-written one must never get its name."""
    (tmp_path / "w.bz2").write_bytes(
        bz2.compress(b"weights")[:-8]
    )  # truncated stream: fails mid-way
    dest = tmp_path / "b"
    with pytest.raises(EOFError):
        unpack(Download("x", dest, "bz2", ("w.dat",)), tmp_path / "w.bz2")
    assert list(dest.iterdir()) == []  # neither w.dat nor a leftover temporary file
    (tmp_path / "w.bz2").write_bytes(bz2.compress(b"weights"))
    (out,) = unpack(Download("x", dest, "bz2", ("w.dat",)), tmp_path / "w.bz2")
    assert out.read_bytes() == b"weights" and [p.name for p in dest.iterdir()] == ["w.dat"]


def test_download_insightface_pack_then_check(tmp_path, monkeypatch):
    zpath = tmp_path / "buffalo_l.zip"
    with zipfile.ZipFile(zpath, "w") as zf:  # the published zip holds the .onnx files at its top
        for name in ("det_10g.onnx", "w600k_r50.onnx", "genderage.onnx"):
            zf.writestr(name, b"onnx bytes of " + name.encode())
    monkeypatch.setattr(insightface_pack, "PACK_URL", zpath.as_uri().replace("buffalo_l", "{pack}"))
    record = tmp_path / "weights" / ".downloads" / "insightface.json"
    assert dl.main(["--model", "insightface", "--record", str(record)]) == 0
    pack = tmp_path / "weights" / "insightface" / "models" / "buffalo_l"
    assert sorted(p.name for p in pack.iterdir()) == [
        "det_10g.onnx",
        "genderage.onnx",
        "w600k_r50.onnx",
    ]
    info = json.loads(record.read_text())
    assert len(info["files"]) == 3 and all(len(f["sha256"]) == 64 for f in info["files"])
    # present files are not fetched again
    zpath.unlink()
    assert download_model("insightface", {}, tmp_path / "weights")["files"]


def test_failed_download_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(paddle_model, "TAR_URL", (tmp_path / "absent_{}.tar").as_uri())
    assert dl.main(["--model", "insightface_paddle", "--weights-dir", str(tmp_path / "w")]) == 1
    assert "download failed" in capsys.readouterr().err
    assert not any(Path(tmp_path / "w").rglob("inference.*"))
