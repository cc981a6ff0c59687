"""The weight downloader (download_weights rule), offline through a local HTTP server."""

import bz2
import functools
import hashlib
import http.server
import json
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from faceage.command import main as faceage_command
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
    """A weight file counts as present once it exists.

    So a half-written one must never get its name.
    """
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


@pytest.fixture
def served(tmp_path):
    """A local HTTP server over tmp_path/www: (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def write_pack(path, content=b"onnx bytes of "):
    with zipfile.ZipFile(path, "w") as zf:  # the published zip holds the .onnx files at its top
        for name in ("det_10g.onnx", "w600k_r50.onnx", "genderage.onnx"):
            zf.writestr(name, content + name.encode())


def test_download_insightface_pack_then_check(tmp_path, monkeypatch, served):
    www, base = served
    zpath = www / "buffalo_l.zip"
    write_pack(zpath)
    monkeypatch.setattr(insightface_pack, "PACK_URL", base + "/{pack}.zip")
    record = tmp_path / "weights" / ".downloads" / "insightface.json"
    assert (
        faceage_command(["download", "insightface", "--weights-dir", str(record.parent.parent)])
        == 0
    )
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


def test_first_hash_pinned_and_a_replaced_file_refused(tmp_path, monkeypatch, served, capsys):
    """No published hash: the first download's SHA-256 is recorded; a later, different file is
    refused (nothing kept); a published hash that does not match refuses the very first download."""
    www, base = served
    write_pack(www / "buffalo_l.zip")
    monkeypatch.setattr(insightface_pack, "PACK_URL", base + "/{pack}.zip")
    weights = tmp_path / "weights"
    download_model("insightface", {}, weights)
    pins = json.loads((weights / ".downloads" / "sha256.json").read_text())
    url = base + "/buffalo_l.zip"
    assert pins[url] == hashlib.sha256((www / "buffalo_l.zip").read_bytes()).hexdigest()
    pack = weights / "insightface" / "models" / "buffalo_l"
    for p in pack.iterdir():
        p.unlink()
    (www / "buffalo_l.zip").write_bytes(
        b"<html>404 Not Found</html>"
    )  # the asset changed / an error page
    assert faceage_command(["download", "insightface", "--weights-dir", str(weights)]) == 1
    err = capsys.readouterr().err
    assert (
        "download failed" in err and "first seen and recorded" in err and "Nothing was kept" in err
    )
    assert not any(pack.iterdir())
    # a published hash is checked on the very first download
    write_pack(www / "buffalo_l.zip")
    monkeypatch.setitem(dl.PUBLISHED_SHA256, url, "0" * 64)
    with pytest.raises(dl.HashMismatchError, match="was published"):
        download_model("insightface", {}, tmp_path / "other")
    assert not any((tmp_path / "other").rglob("*.onnx"))


def test_failed_download_says_so(tmp_path, monkeypatch, capsys, served):
    _, base = served
    monkeypatch.setattr(paddle_model, "TAR_URL", base + "/absent_{}.tar")
    monkeypatch.setattr(dl.time, "sleep", lambda s: None)
    assert (
        faceage_command(["download", "insightface_paddle", "--weights-dir", str(tmp_path / "w")])
        == 1
    )
    assert "download failed" in capsys.readouterr().err
    assert not any(Path(tmp_path / "w").rglob("inference.*"))
