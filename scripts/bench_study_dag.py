#!/usr/bin/env python3
"""What a study of several datasets costs Snakemake itself (docs/performance.md).

    .venv/bin/python scripts/bench_study_dag.py [--datasets 4] [--models eigenfaces dlib
        insightface] [--shards 8] [--images 2000] [--repeat 3]

Builds, in a temporary folder, ``--datasets`` folders of ``--images`` empty image files each
(``<person>/<age>.jpg``: a dry run reads none) and a study over them (``datasets:``, every model
on every dataset, ``--shards`` shards each) and times, ``--repeat`` times each (best and median
wall seconds of the whole command, Python start included):

* ``snakemake -n`` of the whole study (parse, build the DAG, list every job);
* the no-op re-run: ``snakemake -c1`` once every output exists and is up to date (made by
  ``--touch`` over empty files: no job runs, so any model may be listed without its weights).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _snakemake(work: Path, cfg: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "workflow" / "Snakefile")]
    cmd += ["-d", str(work), "--configfile", str(cfg), *args]
    return subprocess.run(cmd, cwd=work, capture_output=True, text=True, check=True)


def _timed(work: Path, cfg: Path, repeat: int, *args: str) -> tuple[list[float], str]:
    times, out = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = _snakemake(work, cfg, *args).stdout
        times.append(time.perf_counter() - t0)
    return times, out


def _make_outputs(work: Path, cfg: Path) -> None:
    """Every output of the study as an empty file (a directory where a rule outputs one),
    then ``--touch`` so that each is newer than its inputs."""
    for row in _snakemake(work, cfg, "--summary").stdout.splitlines()[1:]:
        name = row.split("\t")[0]
        if not name:
            continue
        path = work / name
        if name.endswith("/state"):  # the only directory outputs of a folders dataset
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    _snakemake(work, cfg, "-c1", "--touch")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=int, default=4)
    ap.add_argument("--models", nargs="+", default=["eigenfaces", "dlib", "insightface"])
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="faceage-study-dag-") as tmp:
        work = Path(tmp)
        datasets = {}
        for d in range(a.datasets):
            folder = work / "data" / f"set{d}"
            for i in range(a.images):
                f = folder / f"p{i % 100:03d}" / f"{10 + i // 100}.jpg"
                f.parent.mkdir(parents=True, exist_ok=True)
                f.touch()
            datasets[f"set{d}"] = {
                "dataset_format": "folders",
                "dataset_path": str(folder),
                "shards": a.shards,
            }
        cfg = work / "study.yaml"
        cfg.write_text(
            yaml.safe_dump(
                {
                    "models": a.models,
                    "clean": {"detector": "hog"},
                    "attributes": {"enabled": False},
                    "datasets": datasets,
                }
            )
        )
        dry, out = _timed(work, cfg, a.repeat, "-n")
        jobs = int(re.search(r"^total\s+(\d+)", out, re.M).group(1))
        _make_outputs(work, cfg)
        noop, out = _timed(work, cfg, a.repeat, "-c1")
        if "Nothing to be done" not in out + _snakemake(work, cfg, "-n").stdout:
            raise SystemExit("the re-run was not a no-op: " + out[-2000:])
    print(
        f"{a.datasets} datasets x {len(a.models)} models ({', '.join(a.models)}), "
        f"{a.shards} shards each, {a.images} images per dataset: {jobs} jobs"
    )
    print("| | best (s) | median (s) |\n|---|---|---|")
    for name, t in (("`snakemake -n` (whole study)", dry), ("no-op re-run", noop)):
        print(f"| {name} | {min(t):.1f} | {statistics.median(t):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
