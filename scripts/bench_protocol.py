#!/usr/bin/env python3
"""Benchmark of a protocol run on real FG-NET faces with dlib (numbers for docs/performance.md).

    .venv/bin/python scripts/bench_protocol.py [--fgnet ../shared/datasets/fgnet] [--images 240]

Builds, in a temporary folder, a CSV protocol over ``--images`` FG-NET photos (names carry no
person label, as a benchmark's pair list: every image has the same, unknown, person) and measures:
  (a) the protocol run (dataset_format protocol, 2 shards) with -c1 and with -c2, wall time;
  (b) the embedding throughput of its `embed` jobs (images / job seconds, Snakemake benchmark
      files) against the dataset study's `embed` jobs on the same images (dataset_format csv);
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]


def run(work: Path, cfg: dict, cores: int) -> float:
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "workflow" / "Snakefile"),
        "-d",
        str(work),
        f"-c{cores}",
        "--configfile",
        str(work / "config.yaml"),
        "-q",
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=work, capture_output=True)
    return time.perf_counter() - t0


def embed_rate(work: Path, manifest: Path) -> float:
    """Images per second of the embed jobs (their own wall seconds, model loading included)."""
    man = pd.read_csv(manifest, sep="\t")
    man = man[man["alias_of"].isna()] if "alias_of" in man else man
    seconds = sum(
        pd.read_csv(b, sep="\t")["s"].iloc[0] for b in (work / "benchmarks" / "embed").glob("*.tsv")
    )
    return len(man) / seconds


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fgnet", default=str(ROOT.parent / "shared" / "datasets" / "fgnet"))
    ap.add_argument("--images", type=int, default=240)
    args = ap.parse_args()
    files = sorted(p for p in Path(args.fgnet).iterdir() if p.suffix.lower() == ".jpg")[
        : args.images
    ]
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        images = tmp / "images"
        images.mkdir()
        for f in files:
            shutil.copy(f, images / f.name)
        names = [f.name for f in files]
        order = rng.permutation(len(names))
        half = len(names) // 2
        rows = [
            {
                "image_a": names[order[i]],
                "image_b": names[order[half + i]],
                "same": int(names[order[i]][:3] == names[order[half + i]][:3]),
            }
            for i in range(half)
        ]  # noqa: E501
        pd.DataFrame(rows).to_csv(tmp / "p.csv", index=False)
        pd.DataFrame(
            {
                "path": [str(images / n) for n in names],
                "person": [n[:3] for n in names],
                "age": [int(n[4:6]) for n in names],
            }
        ).to_csv(tmp / "study.csv", index=False)
        base = {
            "models": ["dlib"],
            "shards": 2,
            "clean": {"detector": "hog", "min_images_per_person": 1},
            "attributes": {"enabled": False},
        }
        proto = {
            **base,
            "dataset": "bench",
            "dataset_format": "protocol",
            "protocols": [{"file": str(tmp / "p.csv"), "format": "csv", "images": str(images)}],
        }
        study = {
            **base,
            "dataset": "bench",
            "dataset_format": "csv",
            "dataset_path": str(tmp / "study.csv"),
            "verification": {"enabled": False},
        }
        t1 = run(tmp / "p1", proto, 1)
        t2 = run(tmp / "p2", proto, 2)
        run(tmp / "s2", study, 2)
        r_proto = embed_rate(tmp / "p2", tmp / "p2" / "results/bench/clean/manifest.tsv")
        r_study = embed_rate(tmp / "s2", tmp / "s2" / "results/bench/clean/manifest.tsv")
        shards = (
            pd.read_csv(tmp / "p2" / "results/bench/manifest.tsv", sep="\t")["shard"]
            .value_counts()
            .tolist()
        )
    print(f"| protocol run, {len(files)} FG-NET images, one (unknown) person label | value |")
    print("|---|---|")
    print(f"| images per shard (2 shards) | {sorted(shards)} |")
    print(f"| wall time -c1 | {t1:.1f} s |")
    print(f"| wall time -c2 | {t2:.1f} s ({t2 / t1:.2f} of -c1) |")
    print(f"| embedding throughput, protocol run | {r_proto:.2f} images/s per job |")
    print(
        f"| embedding throughput, dataset study (same images) | {r_study:.2f} images/s per job "
        f"({r_proto / r_study:.2f}) |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
