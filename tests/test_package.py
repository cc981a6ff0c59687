"""The package alone: `pip install "faceage[dlib]"` into a fresh venv gives a working command.

The venv is made from a copy of the checkout's files (no .git, no venvs, no results) and never
sees this checkout's src/ (PYTHONPATH is cleared, the commands run in a temporary folder). pip
installs the dependencies the package declares, held to the versions the env file's lock pins
(a constraints file: it adds no package, it only fixes versions, so a missing declaration still
fails), which keeps the test cheap from pip's cache and the same from run to run.
"""

import os
import shutil
import subprocess
import venv

import pandas as pd
import pytest
from conftest import ROOT, SHARED, need_shared, write_measured_run
from PIL import Image

from faceage.envfiles import constraints_text

pytestmark = pytest.mark.slow

SKIP = {".git", ".venv", ".venvs", "results", "resources", "logs", "benchmarks", ".snakemake"}


def _copy_package(dest):
    def ignore(folder, names):
        top = os.path.samefile(folder, ROOT)
        return [n for n in names if (top and n in SKIP) or n in {"__pycache__", "build"}]

    shutil.copytree(ROOT, dest, ignore=ignore)
    for egg in dest.glob("src/*.egg-info"):
        shutil.rmtree(egg)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv holding only `pip install <copy>[dlib]`; returns (bin folder, clean environment)."""
    tmp = tmp_path_factory.mktemp("package")
    source = _copy_package(tmp / "faceage-src")
    target = tmp / "venv"
    venv.create(target, with_pip=True)
    constraints = tmp / "constraints.txt"
    constraints.write_text(constraints_text(ROOT / "envs" / "dlib.yaml"))
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    proc = subprocess.run(
        [str(target / "bin" / "python"), "-m", "pip", "install", "-q"]
        + ["-c", str(constraints), f"{source}[dlib]"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    shutil.rmtree(source)  # nothing of the checkout is left to import from
    return target / "bin", env


def _run(installed, cwd, *args):
    bin_dir, env = installed
    return subprocess.run(
        [str(bin_dir / "faceage"), *args], cwd=cwd, capture_output=True, text=True, env=env
    )


def test_installed_package_is_not_the_checkout(installed, tmp_path):
    bin_dir, env = installed
    out = subprocess.run(
        [str(bin_dir / "python"), "-c", "import faceage; print(faceage.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "site-packages" in out and str(ROOT) not in out
    assert _run(installed, tmp_path, "--version").stdout.split()[0] == "faceage"


@pytest.mark.shared
def test_predict(installed, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (60, 60), "white").save(photos / "blank.png")
    utk = SHARED / "datasets" / "utkface_small"
    need_shared(utk)
    for f in sorted(utk.iterdir())[:2]:
        shutil.copy(f, photos / f.name)
    proc = _run(installed, tmp_path, "predict", "photos", "--out", "ages.tsv")
    assert proc.returncode == 0, proc.stderr[-3000:]
    t = pd.read_csv(tmp_path / "ages.tsv", sep="\t", keep_default_na=False)
    assert len(t) == 3
    faces = t[t["status"] == "ok"]
    assert len(faces) == 2 and faces["age_pred"].astype(float).between(1, 100).all()


def test_protocol(installed, tmp_path):
    images = tmp_path / "imgs"
    images.mkdir()
    for n in ("a1", "a2", "b1", "b2"):
        Image.new("RGB", (20, 20)).save(images / f"{n}.jpg")
    (tmp_path / "pairs.csv").write_text(
        "image_a,image_b,same\na1.jpg,a2.jpg,1\nb1.jpg,b2.jpg,1\na1.jpg,b1.jpg,0\n"
    )
    proc = _run(installed, tmp_path, "protocol", "pairs.csv", "--format", "csv", "--images", "imgs")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "dataset_format: protocol" in proc.stdout
    assert "3 pairs, 4 images found" in proc.stderr


def test_estimate(installed, tmp_path):
    write_measured_run(tmp_path)
    proc = _run(installed, tmp_path, "estimate", "--dataset", "tiny", "--images", "6000")
    assert proc.returncode == 2 and "--shards" in proc.stderr  # a required option named
    proc = _run(
        installed, tmp_path, "estimate", "--dataset", "tiny", "--images", "6000", "--shards", "2"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:2] == ["rule", "model"] and len(lines) == 3
    assert "dlib" in lines[2] and "1.000" in lines[2]  # 3 s over 3 images of the shard


def test_bench_says_it_needs_a_checkout(installed, tmp_path):
    proc = _run(installed, tmp_path, "bench", "scale")
    assert proc.returncode == 2
    assert "from a checkout of the repository" in proc.stderr
