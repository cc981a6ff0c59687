"""Shards that hold no image, and a dataset that cleaning empties, as workflow runs on real faces.

* Three FG-NET people plus junk files under two more person ids, the FG-NET preset with 8 shards:
  the junk fills the last shard, cleaning empties it, and the run completes (detection, embedding,
  merge, timing, the runtime estimator and verification accept a shard with no image).
* The AgeDB preset (8 shards) on a 3-person AgeDB-named subset of 6 images: shards with no image
  from the start.
* Nothing but junk: the run ends with one clear message, not a traceback.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from capabilities import need_module
from conftest import FGNET, ROOT, need_shared, run_workflow
from PIL import Image

pytestmark = [pytest.mark.shared, pytest.mark.slow]

NO_ATTRS = "attributes={enabled: false}"


def junk(folder, person):
    """Six files under ``person`` that cleaning must remove, FG-NET-named."""
    rng = np.random.default_rng(int(person))
    good = sorted(FGNET.glob("001A*.JPG"))[0].read_bytes()
    (folder / f"{person}A10.JPG").write_bytes(good[: len(good) // 3])  # truncated
    (folder / f"{person}A11.JPG").write_bytes(b"")  # empty
    (folder / f"{person}A12.JPG").write_text("not an image\n")  # text named .jpg
    (folder / f"{person}A13.JPG").write_bytes(rng.bytes(5000))  # random bytes
    Image.new("RGB", (10, 10), (90, 90, 90)).save(folder / f"{person}A14.JPG")  # tiny
    Image.new("RGB", (240, 240), (128, 128, 128)).save(folder / f"{person}A15.JPG")  # faceless


@pytest.fixture(scope="module")
def need_real():
    need_shared(FGNET)
    need_module("dlib", reason="dlib-bin is not installed in this environment")


@pytest.mark.workflow
def test_shard_emptied_by_cleaning(need_real, tmp_path):
    data = tmp_path / "fgnet small"
    data.mkdir()
    for p in ("001", "002", "003"):
        for f in FGNET.glob(f"{p}A*.JPG"):
            shutil.copy(f, data / f.name)
    for p in ("090", "091"):
        junk(data, p)
    work = tmp_path / "w"
    run_workflow(
        work,
        "--config",
        f"dataset_path={data}",
        "dataset=bad",
        "shards=8",
        "clean={min_images_per_person: 2}",
        NO_ATTRS,
        configfile=ROOT / "config" / "fgnet.yaml",
    )
    res = work / "results" / "bad"
    man = pd.read_csv(res / "manifest.tsv", sep="\t")
    clean = pd.read_csv(res / "clean" / "manifest.tsv", sep="\t")
    empty = sorted(set(man["shard"]) - set(clean["shard"]))
    assert empty, "the fixture must leave a shard without images after cleaning"
    emb = np.load(res / "embeddings" / "dlib" / f"shard_{empty[0]}.npz")
    assert len(emb["image_id"]) == 0
    timing = pd.read_csv(res / "tables" / "timing.tsv", sep="\t")
    assert timing.loc[0, "images"] == len(clean) and timing.loc[0, "shards"] == 8
    assert (res / "verification" / "dlib" / "metrics.tsv").is_file()
    # the runtime estimator reads the same benchmarks
    est = subprocess.run(
        [
            sys.executable,
            "-m",
            "faceage",
            "estimate",
            "--dataset",
            "bad",
            "--images",
            "16000",
            "--shards",
            "8",
        ],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert est.returncode == 0, est.stderr


@pytest.mark.workflow
def test_fewer_images_than_shards(need_real, tmp_path):
    data = tmp_path / "agedb"
    data.mkdir()
    files = sorted(FGNET.glob("00[123]A*.JPG"))
    k = 0
    for p in ("001", "002", "003"):
        for f in [f for f in files if f.name.startswith(p)][:2]:
            shutil.copy(f, data / f"{k}_Person{p}_{int(f.name[4:6])}_m.jpg")
            k += 1
    work = tmp_path / "w"
    run_workflow(
        work,
        "--config",
        f"dataset_path={data}",
        "clean={min_images_per_person: 2}",
        NO_ATTRS,
        configfile=ROOT / "config" / "agedb.yaml",
    )
    man = pd.read_csv(work / "results" / "agedb" / "manifest.tsv", sep="\t")
    assert len(man) == 6 and man["shard"].nunique() == 6  # shards 6 and 7 hold nothing
    assert (work / "results" / "agedb" / "tables" / "timing.tsv").is_file()


@pytest.mark.workflow
def test_nothing_survives_cleaning_says_so(need_real, tmp_path):
    data = tmp_path / "junk"
    data.mkdir()
    junk(data, "090")
    work = tmp_path / "w"
    proc = run_workflow(
        work,
        "--config",
        f"dataset_path={data}",
        "dataset=junk",
        "shards=2",
        NO_ATTRS,
        configfile=ROOT / "config" / "fgnet.yaml",
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "no image survived cleaning; see results/junk/clean/cleaning_report.tsv" in out
    assert (work / "results" / "junk" / "clean" / "cleaning_report.tsv").is_file()
