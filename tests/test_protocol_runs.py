"""Protocol runs end to end on real FG-NET faces (../shared), the way a user types them.

* A CSV protocol in which a third of the named images are byte copies under
  other names (as benchmarks assembled from pair lists are): every pair is
  scored, the copies are listed as aliases, and the accuracy equals that of
  the same protocol written with the original names - exactly.
* An insightface ``.bin`` of FG-NET face chips made with the project's own
  alignment (dlib 5-point chips), run with dlib in aligned-input mode.
"""

from __future__ import annotations

import io
import pickle
import shutil
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from capabilities import need_module  # noqa: E402
from conftest import FGNET, ROOT, need_shared, run_workflow

sys.path.insert(0, str(ROOT / "scripts"))
from fgnet_protocol import fgnet_protocol as make_protocol  # noqa: E402

pytestmark = pytest.mark.slow

PERSONS = [f"{i:03d}" for i in range(1, 21)]  # 20 FG-NET subjects, about 240 images


def fgnet_files():
    files = sorted(
        p for p in FGNET.iterdir() if p.suffix.lower() == ".jpg" and p.name[:3] in PERSONS
    )
    assert len(files) > 150
    return files


def write_run(tmp_path, name, protocol: pd.DataFrame, images, **extra):
    protocol.to_csv(tmp_path / f"{name}.csv", index=False)
    cfg = {
        "dataset": name,
        "dataset_format": "protocol",
        "models": ["dlib"],
        "shards": 2,
        "clean": {"detector": "hog"},
        "attributes": {"enabled": False},
        "protocols": [
            {
                "file": str(tmp_path / f"{name}.csv"),
                "format": "csv",
                "images": str(images),
                "name": name,
            }
        ],
        **extra,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="module")
def copies_runs(tmp_path_factory):
    need_shared(FGNET)
    need_module("dlib", reason="dlib-bin is not installed in this environment")
    tmp = tmp_path_factory.mktemp("protocol_copies")
    rng = np.random.default_rng(3)
    files = fgnet_files()
    images = tmp / "images"
    images.mkdir()
    for f in files:
        shutil.copy(f, images / f.name)
    original = make_protocol(files, rng)
    # a third of the named images get a byte copy under another name; the protocol names the copy
    named = sorted(set(original["image_a"]) | set(original["image_b"]))
    copied = {
        n: f"copy_{i:04d}_{n}"
        for i, n in enumerate(rng.choice(named, size=len(named) // 3, replace=False))
    }
    for n, c in copied.items():
        shutil.copy(images / n, images / c)
    with_copies = original.copy()
    for col in ("image_a", "image_b"):
        pick = with_copies[col].isin(copied) & (rng.random(len(with_copies)) < 0.8)
        with_copies.loc[pick, col] = with_copies.loc[pick, col].map(copied)
    runs = {}
    for name, table in (("orig", original), ("copies", with_copies)):
        cfg = write_run(tmp, name, table, images)
        work = tmp / f"work_{name}"
        proc = run_workflow(work, configfile=cfg)
        runs[name] = (work, proc)
    return runs, copied, with_copies


@pytest.mark.workflow
@pytest.mark.shared
def test_copies_are_aliases_and_every_pair_is_scored(copies_runs):
    runs, copied, protocol = copies_runs
    work, _ = runs["copies"]
    res = work / "results" / "copies"
    bench = pd.read_csv(res / "verification" / "benchmarks.tsv", sep="\t", keep_default_na=False)
    row = bench.iloc[0]
    print(bench.T)
    named = set(protocol["image_a"]) | set(protocol["image_b"])
    # an alias needs both names in the protocol (only named images are in a protocol run's manifest)
    n_named_copies = len([c for o, c in copied.items() if c in named and o in named])
    assert n_named_copies > 20
    assert row["n_pairs"] == 300 and row["n_unscored"] == 0 and row["accuracy_note"] == ""
    assert row["n_genuine"] == 150 and row["n_impostor"] == 150
    assert row["n_aliases"] >= n_named_copies  # copies of named originals, listed as aliases
    report = pd.read_csv(res / "clean" / "cleaning_report.tsv", sep="\t", keep_default_na=False)
    aliases = report[report["action"] == "alias"]
    assert not (report["action"] == "removed").any()  # a protocol run removes nothing
    assert len(aliases) >= n_named_copies
    assert aliases["detail"].str.contains("same bytes as").all()
    # embedded once: the embedding shards hold no alias
    man = pd.read_csv(res / "clean" / "manifest.tsv", sep="\t")
    shards = [np.load(p) for p in sorted((res / "embeddings" / "dlib").glob("shard_*.npz"))]
    embedded = np.concatenate([s["image_id"] for s in shards])
    assert len(embedded) == man["alias_of"].isna().sum() < len(man)


@pytest.mark.workflow
@pytest.mark.shared
def test_accuracy_equals_the_original_names_exactly(copies_runs):
    runs, _, _ = copies_runs
    tables = {}
    for name, (work, _) in runs.items():
        tables[name] = pd.read_csv(
            work / "results" / name / "verification" / "benchmarks.tsv", sep="\t"
        ).iloc[0]
    a, b = tables["orig"], tables["copies"]
    print(
        a[["accuracy", "accuracy_std", "auc", "n_fallback_pairs"]],
        b[["accuracy", "accuracy_std", "auc"]],
    )
    assert np.isfinite(a["accuracy"]) and a["accuracy"] > 0.7
    assert (
        a["accuracy"] == b["accuracy"]
        and a["accuracy_std"] == b["accuracy_std"]
        and a["auc"] == b["auc"]
    )
    sa = pd.read_csv(
        runs["orig"][0] / "results/orig/verification/dlib/protocol_orig_pairs.tsv", sep="\t"
    )
    sb = pd.read_csv(
        runs["copies"][0] / "results/copies/verification/dlib/protocol_copies_pairs.tsv", sep="\t"
    )
    np.testing.assert_array_equal(sa["similarity"].to_numpy(), sb["similarity"].to_numpy())


def _chips(files, size=112):
    """FG-NET face chips made with the project's alignment.

    dlib HOG box, 5 landmarks, get_face_chip.
    """
    import dlib

    from faceage.images import load_rgb
    from faceage.models.base import largest
    from faceage.models.dlib_resnet import DlibDetector, model_files

    det = DlibDetector("hog", 1)
    sp = dlib.shape_predictor(str(model_files()["landmarks"]))
    out = {}
    for f in files:
        img = load_rgb(f)
        face = largest(det(img))
        if face is None:
            continue
        rect = dlib.rectangle(*(int(round(v)) for v in face.as_box()))
        out[f.name] = dlib.get_face_chip(img, sp(img, rect), size=size, padding=0.25)
    return out


@pytest.mark.workflow
@pytest.mark.shared
def test_insightface_bin_runs_in_aligned_mode(tmp_path):
    need_shared(FGNET)
    need_module("dlib", reason="dlib-bin is not installed in this environment")
    from PIL import Image

    files = fgnet_files()[:160]
    chips = _chips(files)
    protocol = make_protocol(
        [f for f in files if f.name in chips], np.random.default_rng(5), n_pairs=200
    )
    encoded, issame = [], []
    for _, r in protocol.iterrows():
        for n in (r["image_a"], r["image_b"]):
            buf = io.BytesIO()
            Image.fromarray(chips[n]).save(buf, format="JPEG", quality=95)
            encoded.append(buf.getvalue())
        issame.append(bool(r["same"]))
    with open(tmp_path / "fgnet_chips.bin", "wb") as fh:
        pickle.dump((encoded, issame), fh, protocol=2)
    cfg = {
        "dataset": "chips",
        "dataset_format": "protocol",
        "models": ["dlib"],
        "shards": 2,
        "clean": {"detector": "none"},
        "attributes": {"enabled": False},
        "protocols": [{"file": str(tmp_path / "fgnet_chips.bin"), "format": "insightface_bin"}],
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    work = tmp_path / "work"
    run_workflow(work, configfile=tmp_path / "c.yaml")
    res = work / "results" / "chips"
    row = pd.read_csv(
        res / "verification" / "benchmarks.tsv", sep="\t", keep_default_na=False
    ).iloc[0]
    print(row)
    assert row["protocol"] == "fgnet_chips" and row["n_pairs"] == 200 and row["n_unscored"] == 0
    assert row["accuracy_note"] == "" and row["accuracy"] > 0.7 and row["auc"] > 0.8
    emb = np.load(res / "embeddings" / "dlib.npz")
    assert set(emb["route"]) == {"aligned"}
    # decoded images never leave the job: no image files under results/
    assert not [
        p for p in (work / "results").rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".bmp"}
    ]


@pytest.mark.workflow
def test_depleted_protocol_warns_and_reports_no_accuracy(tmp_path):
    """A protocol whose impostor pairs all name a missing file: every impostor pair unscored, so
    the accuracy cell is empty with the reason, and the run prints a warning with protocol, model,
    counts.
    Synthetic demo faces and eigenfaces (no ../shared needed)."""
    from faceage.demo import make_demo

    images = tmp_path / "imgs"
    make_demo(images, persons=6, images_per_person=6, size=64, seed=1)
    names = sorted(p.relative_to(images).as_posix() for p in images.rglob("*.png"))
    rows = []
    for k in range(40):
        a = names[k % len(names)]
        if k % 2 == 0:
            same = [n for n in names if n.split("/")[0] == a.split("/")[0] and n != a]
            rows.append({"image_a": a, "image_b": same[k % len(same)], "same": 1})
        else:
            rows.append({"image_a": a, "image_b": "nobody/missing.png", "same": 0})
    pd.DataFrame(rows).to_csv(tmp_path / "p.csv", index=False)
    cfg = {
        "dataset": "dep",
        "dataset_format": "protocol",
        "models": ["eigenfaces"],
        "shards": 2,
        "clean": {"detector": "none"},
        "protocols": [
            {"file": str(tmp_path / "p.csv"), "format": "csv", "images": str(images), "name": "dep"}
        ],
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    proc = run_workflow(tmp_path / "w", configfile=tmp_path / "c.yaml")
    row = pd.read_csv(
        tmp_path / "w" / "results/dep/verification/benchmarks.tsv", sep="\t", keep_default_na=False
    ).iloc[0]
    assert row["accuracy"] == "" and "no scored impostor pair" in row["accuracy_note"]
    assert row["n_unscored"] == 20 and row["n_not_found"] == 1
    out = proc.stdout + proc.stderr
    assert "WARNING: protocol dep, model eigenfaces: no accuracy reported" in out
    assert "40 pairs: 20 genuine, 20 impostor, 20 unscored" in out
