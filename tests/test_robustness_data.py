"""Bad data does not crash the study, and nothing good is lost (issue 7).

A fixture dataset is built at test time in ``tmp_path`` (never committed):
real FG-NET faces of four people from ../shared, re-organised in the
``folders`` layout (``<person>/<age>.jpg``), mixed with every kind of bad
file a real collection holds. The whole workflow runs on it with dlib's HOG
as the cleaning detector and the eigenfaces model. Every file must then be
accounted for exactly once, with the reason we expect: used (in the clean
manifest, with a finite embedding), or listed in rejects.tsv (dataset stage)
or cleaning_report.tsv (clean stage). The memory of every job stays bounded
on a 12000 x 9000 photo.

Skips when ../shared (real faces, research use only) is absent.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from capabilities import missing, need_module  # noqa: E402
from PIL import Image

from faceage.contracts import read_embeddings, read_table
from faceage.images import ImageError, load_rgb

ROOT = Path(__file__).resolve().parents[1]
FGNET = ROOT.parent / "shared" / "datasets" / "fgnet"

# FG-NET subjects whose every image dlib's HOG detector finds (checked on the real files).
PLAIN = {"p007": "007", "p005": "005", "Zoë": "004"}  # folder -> FG-NET subject
FORMATS = "003"  # its images are re-encoded in awkward formats, person folder p003
SOLO = "006A24.JPG"
PER_PERSON = 6
HUGE = (12000, 9000)

pytestmark = [pytest.mark.slow, pytest.mark.shared]


def need_fgnet() -> None:
    if not FGNET.is_dir():
        missing(
            "shared", f"needs real faces in {FGNET} (../shared is absent here; research use only)"
        )


def subject_files(subject: str) -> list[Path]:
    return sorted(p for p in FGNET.iterdir() if p.name.upper().startswith(subject + "A"))


def age_of(fgnet_file: Path) -> int:
    return int(fgnet_file.stem.split("A", 1)[1][:2])


def rgb(path: Path) -> Image.Image:
    return Image.open(path).convert("RGB")


def build_fixture(root: Path) -> dict[str, tuple[str, str]]:
    """Write the mixed dataset under ``root``; return {relative path: (where, reason)}.

    ``where`` is ``kept`` (reason empty), ``rejects`` (dataset stage; reason is
    the start of rejects.tsv's reason) or ``report`` (clean stage; the
    cleaning report's reason code).
    """
    from faceage.demo import make_demo

    expect: dict[str, tuple[str, str]] = {}

    def put(rel: str, data: bytes, where: str, reason: str = "") -> Path:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expect[rel] = (where, reason)
        return path

    # Real people, plain JPEGs (one with a non-ASCII person folder and file name).
    for folder, subject in PLAIN.items():
        for i, f in enumerate(subject_files(subject)[:PER_PERSON]):
            name = f"{age_of(f)}_Åsa.JPG" if folder == "Zoë" and i == 0 else f"{age_of(f)}.JPG"
            put(f"{folder}/{name}", f.read_bytes(), "kept")

    # The same real person in every awkward encoding a collection holds.
    faces = subject_files(FORMATS)[:PER_PERSON]
    enc = {}
    for f in faces:
        enc[f.name] = rgb(f)

    def save(img: Image.Image, fmt: str, **kw) -> bytes:
        buf = io.BytesIO()
        img.save(buf, format=fmt, **kw)
        return buf.getvalue()

    f0, f1, f2, f3, f4, f5 = faces
    put(f"p003/{age_of(f0)}.jpg", save(enc[f0.name].convert("CMYK"), "JPEG", quality=95), "kept")
    grey16 = np.asarray(enc[f1.name].convert("L"), dtype=np.uint16) * 257
    put(f"p003/{age_of(f1)}.png", save(Image.fromarray(grey16), "PNG"), "kept")
    rgba = enc[f2.name].convert("RGBA")
    alpha = np.full(rgba.size[::-1], 255, dtype=np.uint8)
    alpha[:, :12] = 0  # a transparent strip at the left edge
    rgba.putalpha(Image.fromarray(alpha))
    put(f"p003/{age_of(f2)}.png", save(rgba, "PNG"), "kept")
    put(f"p003/{age_of(f3)}.jpg", save(enc[f3.name].convert("L"), "JPEG", quality=95), "kept")
    # EXIF-rotated: pixels stored turned 90 degrees anticlockwise, orientation 6 says
    # "turn clockwise to display": only a loader that honours EXIF sees an upright face.
    exif = Image.Exif()
    exif[0x0112] = 6
    put(
        f"p003/{age_of(f4)}.jpg",
        save(
            enc[f4.name].transpose(Image.Transpose.ROTATE_90),
            "JPEG",
            quality=95,
            exif=exif.tobytes(),
        ),
        "kept",
    )
    # A 12000 x 9000 photo (108 Mpx) with the face in the middle.
    canvas = Image.new("RGB", HUGE, (120, 110, 100))
    face = enc[f5.name]
    scale = HUGE[0] / 1600  # after shrinking to 1600 px the face has its original size
    big = face.resize(
        (int(face.width * scale), int(face.height * scale)), Image.Resampling.BILINEAR
    )
    canvas.paste(big, ((HUGE[0] - big.width) // 2, (HUGE[1] - big.height) // 2))
    del big
    put(f"p003/{age_of(f5)}.jpg", save(canvas, "JPEG", quality=85), "kept")
    del canvas

    # Broken files with good names: the clean stage must say what is wrong.
    real = subject_files("005")[PER_PERSON].read_bytes()  # a face not used elsewhere
    rng = np.random.default_rng(0)
    corrupt = bytearray(real)
    third = len(corrupt) // 3
    corrupt[third : 2 * third] = rng.integers(0, 256, third, dtype=np.uint8).tobytes()
    put("p005/70.jpg", bytes(corrupt), "report", "undecodable")
    put("p005/71.jpg", real[: len(real) * 2 // 5], "report", "truncated")
    put("p005/72.jpg", b"", "report", "empty_file")
    put("p005/73.jpg", b"not a picture, just text\n", "report", "not_an_image")
    put("p005/74.png", save(enc[f0.name].resize((16, 16)), "PNG"), "report", "too_small")
    demo = make_demo(root.parent / "cartoons", persons=2, images_per_person=3, size=128, seed=3)
    put("p005/75.png", demo[0].read_bytes(), "report", "no_face")
    put("p005/150.png", demo[1].read_bytes(), "report", "impossible_age")
    put("p005/-3.png", demo[2].read_bytes(), "report", "impossible_age")
    # The same bytes under two names: kept as an alias of the first image id (embedded once; the
    # pair of the two copies is left out of the comparisons).
    first = subject_files("007")[0]
    put(f"p007/{age_of(first)}_copy.JPG", first.read_bytes(), "kept", "")
    # A person with a single image.
    put("solo/30.JPG", (FGNET / SOLO).read_bytes(), "report", "too_few_images")

    # Files the dataset stage cannot read as a labelled image.
    put("p007/hello.jpg", real, "rejects", "unparseable_name")
    put("readme.jpg", real, "rejects", "unparseable_name")
    put(".DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(64), "rejects", "hidden_file")
    put("p007/._18.JPG", b"\x00\x05\x16\x07" + bytes(60), "rejects", "hidden_file")
    put("p007/Thumbs.db", bytes(512), "rejects", "system_file")
    put("p005/notes.txt", b"ages checked\n", "rejects", "not_an_image_name")
    return expect


def write_config(path: Path, data: Path, **extra) -> Path:
    cfg = {
        "dataset": "robust",
        "dataset_format": "folders",
        "dataset_path": str(data),
        "shards": 2,
        "models": ["eigenfaces"],
        "clean": {"detector": "hog", "upsample": 1, "min_images_per_person": 3},
        "comparisons": {"impostors": "all"},
        "analysis": {"balanced_per_range": 3},
        **extra,
    }
    path.write_text(json.dumps(cfg))  # JSON is YAML
    return path


def vm_hwm_kib(pid: int | str = "self") -> int | None:
    """Peak resident memory (VmHWM) of one process, in KiB; None when it is gone.

    Read from /proc because getrusage's ru_maxrss is inherited across fork and
    exec (a child started by a big pytest process reports pytest's peak).
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run_measured(
    cmd: list[str], timeout: int = 900
) -> tuple[subprocess.CompletedProcess, float, str]:
    """Run ``cmd`` in its own session, polling every process of that session.

    Returns (completed process, largest VmHWM seen in MiB, that process's command).
    """
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    peak, who = 0, ""

    out: dict[str, str] = {}

    def read() -> None:
        out["stdout"], out["stderr"] = proc.communicate(timeout=timeout)

    reader = threading.Thread(target=read)
    reader.start()
    while reader.is_alive():
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                stat = (d / "stat").read_text()
                sid = int(stat.rsplit(")", 1)[1].split()[3])
            except (OSError, IndexError, ValueError):
                continue
            if sid != proc.pid:
                continue
            hwm = vm_hwm_kib(d.name)
            if hwm and hwm > peak:
                peak = hwm
                try:
                    who = (
                        (d / "cmdline")
                        .read_bytes()
                        .replace(b"\0", b" ")
                        .decode(errors="replace")[:200]
                    )
                except OSError:
                    who = "?"
        reader.join(0.1)
    done = subprocess.CompletedProcess(
        cmd, proc.returncode, out.get("stdout", ""), out.get("stderr", "")
    )
    return done, peak / 1024, who


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory):
    """The workflow on the mixed fixture.

    Returns (workdir, data, expectations, peak MiB, process).
    """
    need_fgnet()
    need_module("dlib", reason="dlib-bin is not installed in this environment")
    base = tmp_path_factory.mktemp("baddata")
    data = base / "data"
    expect = build_fixture(data)
    work = base / "work"
    work.mkdir()
    cfg = write_config(base / "config.yaml", data)
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "workflow" / "Snakefile"),
        "-d",
        str(work),
        "-c2",
        "--configfile",
        str(cfg),
    ]
    proc, peak_mib, who = run_measured(cmd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return work, data, expect, peak_mib, who


@pytest.mark.workflow
def test_every_file_is_used_or_listed_with_its_reason(bad_run):
    work, data, expect, _, _ = bad_run
    res = work / "results" / "robust"
    manifest = read_table(res / "manifest.tsv")
    rejects = read_table(res / "rejects.tsv")
    report = read_table(res / "clean" / "cleaning_report.tsv")
    clean = read_table(res / "clean" / "manifest.tsv")

    on_disk = sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file())
    assert on_disk == sorted(expect), "the fixture on disk and the expectations disagree"

    rejected = {
        Path(p).relative_to(data).as_posix(): r
        for p, r in zip(rejects["path"], rejects["reason"], strict=True)
    }
    removed = report[report["action"] == "removed"]
    removed_reason = dict(
        zip(removed["image_id"], removed["reason"], strict=True)
    )  # one reason per image
    assert len(removed_reason) == len(removed), "an image was removed twice"
    kept = set(clean["image_id"])

    # Every file exactly once: a manifest row or a reject; every manifest row kept or removed.
    assert set(manifest["image_id"]) | set(rejected) == set(expect)
    assert not set(manifest["image_id"]) & set(rejected)
    assert kept | set(removed_reason) == set(manifest["image_id"])
    assert not kept & set(removed_reason)

    wrong = {}
    for rel, (where, reason) in expect.items():
        if where == "kept":
            got = ("kept", "") if rel in kept else ("report", removed_reason.get(rel, "?"))
        elif where == "rejects":
            got = ("rejects", rejected[rel].split(":")[0]) if rel in rejected else ("?", "")
        else:
            got = ("report", removed_reason.get(rel, "kept" if rel in kept else "?"))
        if got != (where, reason):
            wrong[rel] = {"expected": (where, reason), "got": got}
    assert not wrong, json.dumps(wrong, indent=1, ensure_ascii=False)


@pytest.mark.workflow
def test_reports_say_what_is_wrong(bad_run):
    work, data, _, _, _ = bad_run
    res = work / "results" / "robust"
    report = read_table(res / "clean" / "cleaning_report.tsv").set_index("image_id")
    rejects = read_table(res / "rejects.tsv")
    rejects["rel"] = [Path(p).relative_to(data).as_posix() for p in rejects["path"]]
    rejects = rejects.set_index("rel")
    assert "age -3 outside [0, 120]" in report.at["p005/-3.png", "detail"]
    assert "age 150 outside [0, 120]" in report.at["p005/150.png", "detail"]
    assert "16x16" in report.at["p005/74.png", "detail"]
    assert "same bytes as p007/1.JPG" in report.at["p007/1_copy.JPG", "detail"]
    assert "solo has 1 < 3" in report.at["solo/30.JPG", "detail"]
    assert "truncated" in report.at["p005/71.jpg", "detail"]
    assert "expected <person>/<age>.jpg" in rejects.at["readme.jpg", "reason"]
    summary = pd.read_csv(res / "clean" / "cleaning_summary.tsv", sep="\t").set_index("what")[
        "count"
    ]
    assert summary["images kept"] == 4 * PER_PERSON + 1  # + the alias
    assert summary["alias: duplicate_content"] == 1
    assert summary["persons kept"] == 4


@pytest.mark.workflow
def test_every_kept_image_is_embedded(bad_run):
    work, _, expect, _, _ = bad_run
    res = work / "results" / "robust"
    clean = read_table(res / "clean" / "manifest.tsv")
    emb = read_embeddings(res / "embeddings" / "eigenfaces.npz")
    assert sorted(emb["image_id"]) == sorted(clean["image_id"])
    assert set(emb["status"]) == {"ok"}
    assert np.isfinite(emb["vectors"]).all()
    # one face found in every kept image by the cleaning detector
    assert (clean["n_faces"] == 1).all(), clean.loc[clean["n_faces"] != 1, ["image_id", "n_faces"]]
    scores = read_table(res / "scores" / "eigenfaces.parquet")
    assert scores["similarity"].notna().all()
    n = len(clean)
    # impostors: all -> every pair scored, except the one pair of a photo and its own copy
    assert len(scores) == n * (n - 1) // 2 - 1
    copy = clean.loc[clean["alias_of"].notna(), ["image_id", "alias_of"]].iloc[0]
    pair = {copy["image_id"], copy["alias_of"]}
    assert not any(
        {a, b} == pair for a, b in zip(scores["image_a"], scores["image_b"], strict=True)
    )
    v = dict(zip(emb["image_id"], emb["vectors"], strict=True))
    np.testing.assert_array_equal(v[copy["image_id"]], v[copy["alias_of"]])  # one vector, shared


@pytest.mark.workflow
def test_rotation_honoured_and_colours_converted(bad_run):
    """The loader's view of the awkward encodings equals the upright RGB original."""
    _, data, _, _, _ = bad_run
    faces = subject_files(FORMATS)[:PER_PERSON]
    orig = [np.asarray(rgb(f), dtype=np.float64) for f in faces]
    grey = [np.asarray(rgb(f).convert("L").convert("RGB"), dtype=np.float64) for f in faces]
    # CMYK JPEG: colours back within JPEG noise
    cmyk = load_rgb(data / f"p003/{age_of(faces[0])}.jpg")
    assert cmyk.shape == orig[0].shape and np.abs(cmyk - orig[0]).mean() < 6
    # 16-bit PNG: scaled down to 8 bits exactly
    g16 = load_rgb(data / f"p003/{age_of(faces[1])}.png")
    assert g16.dtype == np.uint8 and np.abs(g16 - grey[1]).max() <= 1
    # alpha: transparent strip composited on white, the rest untouched
    rgba = load_rgb(data / f"p003/{age_of(faces[2])}.png")
    assert (rgba[:, :12] == 255).all() and np.array_equal(
        rgba[:, 12:], orig[2][:, 12:].astype(np.uint8)
    )
    # EXIF: upright, same size and content as the original
    rot = load_rgb(data / f"p003/{age_of(faces[4])}.jpg")
    assert rot.shape == orig[4].shape and np.abs(rot - orig[4]).mean() < 6


@pytest.mark.workflow
def test_rotated_face_found_only_when_exif_is_honoured(bad_run):
    """Control: the sideways pixels hide the face from HOG; the workflow found it (upright box)."""
    from faceage.models.dlib_resnet import DlibDetector

    work, data, _, _, _ = bad_run
    rel = f"p003/{age_of(subject_files(FORMATS)[4])}.jpg"
    raw = np.asarray(Image.open(data / rel).convert("RGB"))  # ignores EXIF
    assert DlibDetector("hog", 1)(raw) == []
    clean = read_table(work / "results" / "robust" / "clean" / "manifest.tsv").set_index("image_id")
    upright = load_rgb(data / rel)
    row = clean.loc[rel]
    assert row["n_faces"] == 1
    assert row["face_right"] <= upright.shape[1] + 5 and row["face_bottom"] <= upright.shape[0] + 5
    assert (
        upright.shape[0] > upright.shape[1]
    )  # FG-NET scans are portrait; the stored pixels are landscape
    assert raw.shape[0] < raw.shape[1]


@pytest.mark.workflow
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_memory_bounded_on_huge_image(bad_run, tmp_path):
    """Peak RSS of the largest process of the whole run, and of decoding the photo alone."""
    _, data, _, peak_mib, who = bad_run
    huge = data / f"p003/{age_of(subject_files(FORMATS)[5])}.jpg"
    assert Image.open(huge).size == HUGE
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from PIL import Image\n"
        "from faceage.images import load_rgb\n"
        "def hwm():\n"
        "    lines = Path('/proc/self/status').read_text().splitlines()\n"
        "    return next(int(x.split()[1]) for x in lines if x.startswith('VmHWM:'))\n"
        "base = hwm()\n"
        "if sys.argv[2] == 'full':\n"
        "    im = Image.open(sys.argv[1]); im.load(); shape = im.size\n"
        "else:\n"
        "    shape = load_rgb(sys.argv[1]).shape\n"
        "print(shape, (hwm() - base) // 1024)\n"
    )

    def extra_mib(mode: str) -> tuple[int, str]:
        out = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", code, str(huge), mode],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        ).stdout
        return int(out.split()[-1]), out

    full, out_full = extra_mib("full")
    bounded, out_bounded = extra_mib("load_rgb")
    # decoding all 108 Mpx costs > 300 MiB: the check below can fail
    assert full > 300, out_full
    assert bounded < 120, f"load_rgb of a 12000x9000 JPEG took {bounded} MiB more: {out_bounded}"
    # Every process of the run, Snakemake itself and the detection/embedding jobs
    # that decode the photo, stayed well below what one full decode costs.
    assert peak_mib < 600, f"largest process of the run peaked at {peak_mib:.0f} MiB: {who}"
    print(
        f"peak RSS: whole run {peak_mib:.0f} MiB ({who[:80]}); full decode +{full} MiB; "
        f"load_rgb +{bounded} MiB"
    )


def test_bad_files_one_by_one_never_raise_anything_else(tmp_path):
    """load_rgb turns every broken file into ImageError with a reason code (no other exception)."""
    need_fgnet()
    expect = build_fixture(tmp_path / "data")
    for rel, (where, reason) in expect.items():
        path = tmp_path / "data" / rel
        if where != "report" or reason in (
            "no_face",
            "impossible_age",
            "duplicate_content",
            "too_few_images",
        ):
            continue
        with pytest.raises(ImageError) as err:
            load_rgb(path)
        assert err.value.reason == reason, (rel, err.value)


def test_fixture_leaves_no_images_in_the_repository():
    if shutil.which("git") is None:
        missing("git", "git absent")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    images = [
        t
        for t in tracked
        if t.lower().endswith((".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"))
        and not t.startswith(("docs/", "workflow/report/"))
    ]
    assert not images, f"image files committed: {images[:5]}"
