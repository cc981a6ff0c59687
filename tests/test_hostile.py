"""Hostile folders and files are named, bounded, never multiplied (issue 29).

Unit level: the dataset walk, the image loader, the protocol checks and the stage-file readers,
each on a file made in ``tmp_path``. Anything that could hang on a regression (a FIFO, a link
to ``/dev/zero``) runs under ``signal.alarm``, so a regression fails instead of blocking; the
memory of decoding a giant image is measured in a subprocess.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from faceage.contracts import DamagedFileError, read_embeddings, read_table, write_embeddings
from faceage.datasets import build_manifest
from faceage.datasets.base import REJECT_REASONS, walk_images
from faceage.images import (
    MAX_FILE_BYTES,
    MAX_PIXELS,
    ImageError,
    decode_peak_mb,
    file_digest,
    load_rgb,
)
from faceage.protocols.checks import PAIR_PROBLEMS, drop_problem_pairs, pair_problems
from faceage.protocols.formats import ProtocolError, read_protocol

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def deadline(seconds: int = 10):
    """Fail (TimeoutError) instead of hanging when the body blocks or reads forever."""

    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: a blocking open or endless read")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def jpeg(path: Path, size=(64, 64), colour=(120, 90, 60)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, "JPEG")
    return path


def fgnet_folder(root: Path) -> Path:
    for name in ("001A02.JPG", "001A05.JPG", "sub/002A10.JPG"):
        jpeg(root / name)
    return root


def reasons(rejects: pd.DataFrame) -> dict[str, str]:
    return dict(zip(rejects["path"], rejects["reason"].str.split(":").str[0], strict=True))


# -- dataset walks ------------------------------------------------------------------------


def test_directory_loop_lists_every_image_once(tmp_path):
    data = fgnet_folder(tmp_path / "data")
    (data / "loop").symlink_to(".")
    (data / "sub" / "up").symlink_to("..")
    man, rej = build_manifest("fgnet", data)
    assert sorted(man["image_id"]) == ["001A02.JPG", "001A05.JPG", "sub/002A10.JPG"]
    assert reasons(rej) == {str(data / "loop"): "folder_link", str(data / "sub/up"): "folder_link"}


def test_link_out_of_the_dataset_is_named_once_and_not_walked(tmp_path):
    data = fgnet_folder(tmp_path / "data")
    outside = tmp_path / "elsewhere"
    for i in range(5):
        jpeg(outside / f"00{i}A20.JPG")
    (data / "etc").symlink_to("/etc")
    (data / "more").symlink_to(outside)
    walked = list(walk_images(data))
    assert not any(rel.startswith(("etc/", "more/")) for rel, _ in walked), walked
    man, rej = build_manifest("fgnet", data)
    assert len(man) == 3
    assert reasons(rej) == {
        str(data / "etc"): "link_outside_dataset",
        str(data / "more"): "link_outside_dataset",
    }
    assert "/etc" in rej.loc[rej["path"] == str(data / "etc"), "reason"].item()


def test_fifo_named_like_an_image_is_rejected_without_blocking(tmp_path):
    data = fgnet_folder(tmp_path / "data")
    os.mkfifo(data / "001A56.JPG")
    with deadline():
        man, rej = build_manifest("fgnet", data)
        assert reasons(rej) == {str(data / "001A56.JPG"): "not_a_regular_file"}
        assert "FIFO" in rej["reason"].item()
        assert "001A56.JPG" not in set(man["image_id"])
        with pytest.raises(ImageError) as err:
            load_rgb(data / "001A56.JPG")
        assert err.value.reason == "not_a_regular_file"
        with pytest.raises(ImageError):
            file_digest(data / "001A56.JPG")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_link_to_dev_zero_is_rejected_without_reading(tmp_path):
    data = fgnet_folder(tmp_path / "data")
    (data / "003A30.JPG").symlink_to("/dev/zero")
    with deadline():
        man, rej = build_manifest("fgnet", data)
        assert reasons(rej) == {str(data / "003A30.JPG"): "not_a_regular_file"}
        assert "character device" in rej["reason"].item()
        for read in (load_rgb, file_digest):
            with pytest.raises(ImageError) as err:
                read(data / "003A30.JPG")
            assert err.value.reason == "not_a_regular_file"


def test_csv_adapter_rejects_a_fifo_and_a_broken_link(tmp_path):
    jpeg(tmp_path / "a.jpg")
    os.mkfifo(tmp_path / "b.jpg")
    (tmp_path / "c.jpg").symlink_to(tmp_path / "gone.jpg")
    (tmp_path / "list.csv").write_text("path,person,age\na.jpg,ann,3\nb.jpg,bob,4\nc.jpg,cy,5\n")
    with deadline():
        man, rej = build_manifest("csv", tmp_path / "list.csv")
    assert man["person"].tolist() == ["ann"]
    assert sorted(r.split(":")[0] for r in rej["reason"]) == ["broken_link", "not_a_regular_file"]


def test_broken_link_and_oversized_file_are_named(tmp_path, monkeypatch):
    data = fgnet_folder(tmp_path / "data")
    (data / "004A40.JPG").symlink_to(tmp_path / "nowhere.jpg")
    with open(data / "005A50.JPG", "wb") as fh:  # sparse: large on paper, nothing written
        fh.truncate(MAX_FILE_BYTES + 1)
    _, rej = build_manifest("fgnet", data)
    assert reasons(rej) == {
        str(data / "004A40.JPG"): "broken_link",
        str(data / "005A50.JPG"): "too_large",
    }
    with pytest.raises(ImageError) as err:
        load_rgb(data / "005A50.JPG")
    assert err.value.reason == "too_large"


def test_every_walk_reason_is_in_the_one_list(tmp_path):
    data = fgnet_folder(tmp_path / "data")
    (data / "loop").symlink_to(".")
    (data / "etc").symlink_to("/etc")
    os.mkfifo(data / "006A56.JPG")
    (data / ".DS_Store").write_bytes(b"x")
    (data / "notes.txt").write_text("x")
    (data / "007A01.JPG").symlink_to(tmp_path / "gone")
    found = {r.split(":")[0] for _, r in walk_images(data) if r}
    assert found == {
        "folder_link",
        "link_outside_dataset",
        "not_a_regular_file",
        "hidden_file",
        "not_an_image_name",
        "broken_link",
    }
    assert found <= set(REJECT_REASONS)


def test_protocol_images_folder_with_a_loop_and_a_fifo(tmp_path):
    from faceage.protocols.dataset import protocol_manifest, protocols_from_config

    images = tmp_path / "imgs"
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        jpeg(images / name)
    (images / "loop").symlink_to(".")
    (images / "etc").symlink_to("/etc")
    os.mkfifo(images / "d.jpg")
    (tmp_path / "p.csv").write_text("image_a,image_b,same\na.jpg,b.jpg,1\nb.jpg,c.jpg,0\n")
    protocols = protocols_from_config(
        [{"name": "p", "file": str(tmp_path / "p.csv"), "format": "csv", "images": str(images)}]
    )
    with deadline():
        man, rej, tables = protocol_manifest(protocols)
    assert sorted(man["source"]) == ["a.jpg", "b.jpg", "c.jpg"]
    assert sorted(r.split(":")[0] for r in rej["reason"]) == [
        "folder_link",
        "link_outside_dataset",
        "not_a_regular_file",
    ]
    assert len(tables["p"]) == 2


# -- decoding within a bound ---------------------------------------------------------------


def giant_png(path: Path, side: int = 12000) -> Path:
    """A side x side 16-bit greyscale PNG: ~1 MB on disk, side^2 pixels in its header."""
    a = np.zeros((side, side), dtype=np.uint16)
    a[::97, ::89] = 40000
    Image.fromarray(a).save(path, compress_level=1)
    return path


PEAK = """
import sys
from pathlib import Path
from faceage.images import ImageError, load_rgb

def hwm():
    lines = Path('/proc/self/status').read_text().splitlines()
    return next(int(x.split()[1]) for x in lines if x.startswith('VmHWM:'))

base = hwm()
try:
    result = 'x'.join(map(str, load_rgb(sys.argv[1]).shape))
except ImageError as exc:
    result = exc.reason
print(result, (hwm() - base) // 1024)
"""


def decode_peak(path: Path) -> tuple[str, int]:
    """(shape or reason, peak resident MiB load_rgb added) in a fresh interpreter.

    VmHWM from /proc, not getrusage: ru_maxrss survives fork and exec, so a child started by
    pytest would report pytest's own peak."""
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", PEAK, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    ).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
def test_giant_16bit_png_is_refused_from_its_header(tmp_path):
    path = giant_png(tmp_path / "giant.png")
    assert path.stat().st_size < 5 * 2**20
    result, extra = decode_peak(path)
    assert result == "too_large"
    assert extra < 50, f"refusing from the header still took {extra} MiB"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("mode", ["I;16", "RGBA"])
def test_largest_decodable_image_stays_within_the_bound(tmp_path, mode):
    """An image of exactly MAX_PIXELS in a wide mode is decoded within decode_peak_mb()."""
    side = int(MAX_PIXELS**0.5)
    if mode == "I;16":
        a = np.zeros((side, side), dtype=np.uint16)
        a[::7, ::5] = 50000
    else:
        a = np.zeros((side, side, 4), dtype=np.uint8)
        a[::7, ::5] = (200, 100, 50, 128)
    path = tmp_path / "at_cap.png"
    Image.fromarray(a).save(path, compress_level=1)
    del a
    result, extra = decode_peak(path)
    assert result == "1600x1600x3"
    bound = decode_peak_mb()
    # the decoded image alone takes side^2 x 2 (I;16) or x 4 (RGBA) bytes: the bound is real
    assert extra > side * side * (2 if mode == "I;16" else 4) / 2**20 * 0.9
    assert extra <= bound, f"{mode}: {extra} MiB > decode_peak_mb() = {bound} MiB"


def test_sixteen_bit_conversion_is_exact_without_float64(tmp_path):
    a = np.arange(0, 65536, 1, dtype=np.uint16)[: 256 * 256].reshape(256, 256)
    Image.fromarray(a).save(tmp_path / "g.png")
    got = load_rgb(tmp_path / "g.png")[..., 0]
    want = np.clip(np.rint(a.astype(np.float64) * 255 / 65535), 0, 255).astype(np.uint8)
    assert (got == want).all()


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A valid 1x1 PNG whose IHDR is rewritten to claim width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00")
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def test_decompression_bomb_is_a_reason_not_a_crash(tmp_path):
    # 30000 x 30000 = 900 Mpx: beyond twice Pillow's own limit, so Image.open itself raises
    bomb = png_claiming(tmp_path / "bomb.png", 30000, 30000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(bomb)
    with pytest.raises(ImageError) as err:
        load_rgb(bomb)
    assert err.value.reason == "too_large"
    # just above our cap, below Pillow's: refused by the header check, named with the cap
    over = png_claiming(tmp_path / "over.png", 8001, 8000)
    with pytest.raises(ImageError, match="MAX_PIXELS") as err:
        load_rgb(over)
    assert err.value.reason == "too_large"


def test_decode_bound_is_documented_and_consistent():
    assert decode_peak_mb() >= MAX_PIXELS * 4 / 2**20
    assert decode_peak_mb(800) < decode_peak_mb(1600) < decode_peak_mb(0)
    doc = (ROOT / "docs" / "robustness.md").read_text()
    assert "MAX_PIXELS" in doc and f"{decode_peak_mb()} MiB" in doc


# -- protocol checks -----------------------------------------------------------------------


def protocol(rows) -> pd.DataFrame:
    t = pd.DataFrame(rows, columns=["image_a", "image_b", "genuine"])
    t.insert(0, "pair", range(len(t)))
    t["fold"] = 0
    return t


def test_protocol_duplicates_contradictions_and_self_pairs_are_found():
    t = protocol(
        [
            ("a", "b", 1),  # 0 kept
            ("b", "a", 1),  # 1 repeats 0 (either order is one pair)
            ("a", "b", 1),  # 2 repeats 0
            ("c", "d", 1),  # 3 contradicted by 4
            ("d", "c", 0),  # 4
            ("e", "e", 0),  # 5 an image with itself, labelled impostor
            ("f", "f", 1),  # 6 ... and labelled genuine
            ("a", "c", 0),  # 7 kept
        ]
    )
    found = pair_problems(t)
    assert dict(zip(found["pair"], found["reason"], strict=True)) == {
        1: "duplicate_pair",
        2: "duplicate_pair",
        3: "contradictory_labels",
        4: "contradictory_labels",
        5: "self_pair",
        6: "self_pair",
    }
    assert set(found["reason"]) <= set(PAIR_PROBLEMS)
    assert "repeats pair 0" in found.loc[found["pair"] == 1, "detail"].item()
    kept, _ = drop_problem_pairs(t)
    assert kept["pair"].tolist() == [0, 1, 2, 7]  # repeats kept (flagged), the rest dropped
    assert set(pair_problems(kept)["reason"]) == {"duplicate_pair"}


def test_two_names_of_one_file_are_a_self_pair():
    t = protocol([("x/1", "x/1.jpg", 0), ("x/1", "y/2", 0)])
    t["id_a"] = pd.array(["imgs/x/1.jpg", "imgs/x/1.jpg"], dtype="string")
    t["id_b"] = pd.array(["imgs/x/1.jpg", pd.NA], dtype="string")
    found = pair_problems(t)
    assert found["pair"].tolist() == [0] and found["reason"].tolist() == ["self_pair"]


def test_protocol_manifest_drops_and_reports_problem_pairs(tmp_path, caplog):
    from faceage.protocols.dataset import protocol_manifest, protocols_from_config

    images = tmp_path / "imgs"
    for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg"):
        jpeg(images / name)
    (tmp_path / "p.csv").write_text(
        "image_a,image_b,same\n"
        "a.jpg,b.jpg,1\na.jpg,b.jpg,1\nc.jpg,d.jpg,1\nd.jpg,c.jpg,0\na.jpg,a.jpg,0\nb.jpg,c.jpg,0\n"
    )
    protocols = protocols_from_config(
        [{"name": "p", "file": str(tmp_path / "p.csv"), "format": "csv", "images": str(images)}]
    )
    with caplog.at_level("WARNING"):
        _, rej, tables = protocol_manifest(protocols)
    # the repeat of pair 0 (pair 1) is kept and scored, as a benchmark lists it
    assert tables["p"]["pair"].tolist() == [0, 1, 5]
    codes = sorted(r.split(":")[0] for r in rej["reason"])
    assert codes == ["contradictory_labels", "contradictory_labels", "duplicate_pair", "self_pair"]
    assert [r.endswith("; kept") for r in rej["reason"] if r.startswith("duplicate")] == [True]
    assert all(r.endswith("; dropped") for r in rej["reason"] if not r.startswith("duplicate"))
    assert set(rej["path"]) == {str(tmp_path / "p.csv")}
    assert "3 of 6 pairs dropped" in caplog.text and "1 repeated pairs kept" in caplog.text
    assert "2 contradictory_labels" in caplog.text


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("csv", "image_a,image_b,same\n"),
        ("csv", "image_a,image_b,same,fold\n\n"),
        ("lfw", "10 300\n"),
        ("calfw", ""),
    ],
)
def test_header_only_protocol_is_a_clear_error(tmp_path, fmt, text):
    path = tmp_path / f"pairs.{fmt}"
    path.write_text(text)
    with pytest.raises(ProtocolError, match="holds no pairs") as err:
        read_protocol(path, fmt)
    assert str(path) in str(err.value)


def test_protocol_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pairs.csv")
    with deadline(), pytest.raises(ProtocolError, match="not_a_regular_file"):
        read_protocol(tmp_path / "pairs.csv", "csv")


# -- damaged stage files -------------------------------------------------------------------


def test_truncated_embeddings_name_the_file_and_the_way_out(tmp_path):
    path = tmp_path / "embeddings" / "eigenfaces.npz"
    n = 20
    write_embeddings(
        path,
        [f"i{k}" for k in range(n)],
        np.ones((n, 8), np.float32),
        ["ok"] * n,
        np.ones(n),
        np.zeros((n, 4)),
        np.ones(n),
    )
    assert len(read_embeddings(path)["image_id"]) == n
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DamagedFileError) as err:
        read_embeddings(path)
    message = str(err.value)
    assert str(path) in message and f"delete {path} and re-run" in message


def test_embeddings_breaking_the_contract_are_named(tmp_path):
    path = tmp_path / "e.npz"
    np.savez(path, image_id=np.array(["a", "b"]), vectors=np.ones((3, 4)), status=["ok"] * 2)
    with pytest.raises(DamagedFileError, match="not \\[2 images"):
        read_embeddings(path)


def test_truncated_scores_name_the_file_and_the_way_out(tmp_path):
    from faceage.contracts import iter_table, read_compact, write_table

    path = tmp_path / "scores" / "eigenfaces.parquet"
    write_table(
        pd.DataFrame({"pair_id": range(1000), "similarity": np.linspace(-1, 1, 1000)}), path
    )
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for read in (read_table, read_compact, lambda p: list(iter_table(p))):
        with pytest.raises(DamagedFileError) as err:
            read(path)
        assert f"delete {path} and re-run" in str(err.value)


def test_missing_stage_file_keeps_its_own_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_embeddings(tmp_path / "absent.npz")


# -- one step end to end -------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_manifest_step_on_a_hostile_folder(tmp_path):
    """The dataset stage's step on every hostile entry at once: the manifest lists each image
    once, rejects.tsv names each hostile entry once, and nothing blocks."""
    from faceage import steps
    from faceage.steps import error_line

    data = fgnet_folder(tmp_path / "data")
    (data / "loop").symlink_to(".")
    (data / "etc").symlink_to("/etc")
    os.mkfifo(data / "001A56.JPG")
    (data / "003A30.JPG").symlink_to("/dev/zero")
    out = tmp_path / "results"
    with deadline(30):
        steps.run(
            "manifest",
            input={"dataset": str(data)},
            output={"manifest": str(out / "manifest.tsv"), "rejects": str(out / "rejects.tsv")},
            settings={"format": "fgnet", "shards": 2},
        )
    man = read_table(out / "manifest.tsv")
    assert sorted(man["image_id"]) == ["001A02.JPG", "001A05.JPG", "sub/002A10.JPG"]
    rej = read_table(out / "rejects.tsv")
    assert sorted(reasons(rej).values()) == [
        "folder_link",
        "link_outside_dataset",
        "not_a_regular_file",
        "not_a_regular_file",
    ]
    # a damaged input of a later step: the console's one line names the file and the way out
    (out / "embeddings.npz").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(DamagedFileError) as err:
        steps.run(
            "scores",
            input={"embeddings": str(out / "embeddings.npz"), "pairs": str(out / "p.parquet")},
            output={"scores": str(out / "scores.parquet")},
        )
    line = error_line("scores", err.value)
    assert line.startswith(f"ERROR [scores]: cannot read {out / 'embeddings.npz'}")
    assert f"delete {out / 'embeddings.npz'} and re-run" in line


DETECT_JOB = """
import json, sys
from pathlib import Path
from faceage.steps import run

run(
    "detect_faces",
    input={"manifest": sys.argv[1]},
    output={"inspection": sys.argv[2]},
    settings=json.loads(sys.argv[3]),
    wildcards={"shard": "0"},
)
lines = Path('/proc/self/status').read_text().splitlines()
print(next(int(x.split()[1]) for x in lines if x.startswith('VmHWM:')) // 1024)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
def test_detect_job_on_the_largest_images_fits_its_mem_mb(tmp_path):
    """The detect_faces job (dlib's HOG, its whole process) on a shard holding the largest
    16-bit PNG the loader decodes and the 12000 x 12000 one it refuses: its peak RSS is within
    the mem_mb the rule requests for such a shard (faceage.workflow.resources)."""
    pytest.importorskip("dlib")
    from faceage.workflow.resources import detect_mem_mb

    side = int(MAX_PIXELS**0.5)
    a = np.zeros((side, side), dtype=np.uint16)
    a[::7, ::5] = 50000
    Image.fromarray(a).save(tmp_path / "at_cap.png", compress_level=1)
    del a
    giant_png(tmp_path / "giant.png")
    rows = [
        {"image_id": n, "path": str(tmp_path / n), "person": "p", "age": 30}
        | {"gender": "", "source": "t", "shard": 0}
        for n in ("at_cap.png", "giant.png")
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "manifest.tsv", sep="\t", index=False)
    settings = {"detector": "hog", "upsample": 0, "max_side": 1600, "face_choice": "largest"}
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", DETECT_JOB, str(tmp_path / "manifest.tsv")]
        + [str(tmp_path / "inspect.tsv"), json.dumps(settings)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    peak = int(out.stdout.split()[-1])
    table = pd.read_csv(tmp_path / "inspect.tsv", sep="\t")
    assert table.set_index("image_id").loc["giant.png", "status"].startswith("too_large")
    assert table.set_index("image_id").loc["at_cap.png", "status"] == "ok"
    requested = detect_mem_mb(2, 1)
    print(f"detect job peak {peak} MiB, requested {requested} MB")
    assert peak <= requested, f"detect job peaked at {peak} MiB; it requests {requested} MB"
