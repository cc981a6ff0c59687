#!/usr/bin/env python3
"""Benchmark of the backbone on FG-NET with dlib (numbers for docs/performance.md).

    .venv/bin/python scripts/bench_backbone.py [--fgnet ../shared/datasets/fgnet] \
        [--images 300] [--pairs 150]

Measures, on this machine:
  (a) the bare model: dlib used directly (load, HOG detect, 5-point chip, descriptor), one process;
  (b) the embedding stage (faceage.embed.embed_shard, detecting itself) on the same images;
  (c) the whole workflow with -c2, cold, and a no-op re-run (config/fgnet.yaml, temp work dir);
  (d) the original approach: both images of every genuine pair embedded again, per pair;
  (e) scoring throughput (cosine similarity of pairs, one core);
  (f) peak memory (max RSS of the workflow's jobs, from Snakemake's benchmark files).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _dlib_models():
    """dlib's HOG detector, 5-point landmark model and ResNet recogniser, loaded directly."""
    import dlib

    from faceage.models.dlib_resnet import model_files

    files = model_files()
    det = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(str(files["landmarks"]))
    rec = dlib.face_recognition_model_v1(str(files["recogniser"]))
    return det, sp, rec


def bare_dlib(paths: list[Path]) -> tuple[float, list]:
    import dlib

    det, sp, rec = _dlib_models()
    t0 = time.perf_counter()
    out = []
    for p in paths:
        img = dlib.load_rgb_image(str(p))
        dets = det(img, 1)
        if not dets:
            out.append(None)
            continue
        face = max(dets, key=lambda r: r.area())
        out.append(np.asarray(rec.compute_face_descriptor(img, sp(img, face))))
    return time.perf_counter() - t0, out


def _timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def stages(fgnet: str, every: int = 5) -> int:
    """Per-image cost of each dlib step on every ``every``-th FG-NET image, one process."""
    import dlib

    from faceage.datasets import build_manifest
    from faceage.images import load_rgb

    man, _ = build_manifest("fgnet", fgnet, 1)
    paths = list(man["path"])[::every]
    det, sp, rec = _dlib_models()
    rows = []
    t0 = time.perf_counter()
    images = [load_rgb(p, 1600) for p in paths]
    rows.append(("decode (load_rgb)", (time.perf_counter() - t0) / len(paths), ""))
    found = {}
    for up in (0, 1):
        t0 = time.perf_counter()
        found[up] = [det(im, up) for im in images]
        dt = (time.perf_counter() - t0) / len(paths)
        none = sum(len(f) == 0 for f in found[up])
        several = sum(len(f) > 1 for f in found[up])
        rows.append(
            (
                f"HOG detection, upsample {up}",
                dt,
                f"no face in {none} of {len(paths)}, several in {several}",
            )
        )
    t0 = time.perf_counter()
    chips = [
        dlib.get_face_chip(im, sp(im, f[0]), size=150, padding=0.25)
        for im, f in zip(images, found[1], strict=True)
        if f
    ]
    rows.append(
        ("landmarks + chip", (time.perf_counter() - t0) / len(chips), f"{len(chips)} faces")
    )
    t0 = time.perf_counter()
    for i in range(0, len(chips), 32):
        rec.compute_face_descriptor(chips[i : i + 32], 0)
    rows.append(("ResNet descriptor, batches of 32", (time.perf_counter() - t0) / len(chips), ""))
    print(
        f"Machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}; "
        f"every {every}th FG-NET image"
    )
    print("| step | ms / image | note |\n|---|---|---|")
    for name, sec, note in rows:
        print(f"| {name} | {sec * 1000:.1f} | {note} |")
    return 0


def _run(cmd: list[str]) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        sys.exit(
            f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stdout[-3000:]}{res.stderr[-3000:]}"
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fgnet", default=str(ROOT.parent / "shared" / "datasets" / "fgnet"))
    ap.add_argument("--images", type=int, default=300, help="images for (a) and (b)")
    ap.add_argument("--pairs", type=int, default=150, help="genuine pairs for (d)")
    ap.add_argument("--skip-workflow", action="store_true")
    ap.add_argument(
        "--stages",
        action="store_true",
        help="only: milliseconds per image of each step of dlib, "
        "and faces missed with/without upsampling",
    )
    args = ap.parse_args()
    if args.stages:
        return stages(args.fgnet)

    from faceage.contracts import write_manifest
    from faceage.datasets import build_manifest
    from faceage.embed import embed_shard
    from faceage.pair_sampling import genuine_pairs
    from faceage.scores import cosine_similarity_pairs, normalise, score_pairs

    rows = []
    man, _ = build_manifest("fgnet", args.fgnet, 1)
    sub = man.iloc[: args.images].copy()
    paths = [Path(p) for p in sub["path"]]

    # (a) bare dlib
    t_a, _ = bare_dlib(paths)
    rate_a = len(paths) / t_a
    rows.append(
        (
            "(a) bare dlib (HOG + chip + descriptor), 1 process",
            f"{rate_a:.2f} images/s",
            f"{len(paths)} images in {t_a:.1f} s",
        )
    )

    # (b) embedding stage on the same images, detecting itself
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_manifest(sub, tmp / "m.tsv")
        t0 = time.perf_counter()
        embed_shard("dlib", {"reuse_clean_faces": False}, tmp, tmp / "m.tsv", 0, tmp / "e.npz", tmp)
        t_b = time.perf_counter() - t0
    rate_b = len(paths) / t_b
    rows.append(
        (
            "(b) embedding stage (same work, batched), 1 process",
            f"{rate_b:.2f} images/s",
            f"{100 * rate_b / rate_a:.0f} % of (a)",
        )
    )

    # (c) whole workflow, cold and no-op: the study (dataset -> plots, verification included) and
    # the preset as shipped (config/fgnet.yaml also runs the age/gender branch)
    if not args.skip_workflow:
        base = [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(ROOT / "workflow" / "Snakefile"),
            "-c2",
            "-q",
            "--configfile",
            str(ROOT / "config" / "fgnet.yaml"),
            "--config",
            f"dataset_path={args.fgnet}",
        ]
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "snakemake", "--version"], check=True, capture_output=True
        )
        t_start = time.perf_counter() - t0
        for label, extra in (
            ("study, attributes off", ["attributes={enabled: false}"]),
            ("config/fgnet.yaml as shipped, with age/gender", []),
        ):
            with tempfile.TemporaryDirectory() as work:
                cmd = base[:5] + ["-d", work] + base[5:] + extra
                t0 = time.perf_counter()
                _run(cmd)
                t_cold = time.perf_counter() - t0
                t0 = time.perf_counter()
                _run(cmd)
                t_noop = time.perf_counter() - t0
                bench = pd.concat(
                    [
                        pd.read_csv(f, sep="\t").assign(job=f.parent.name + "/" + f.stem)
                        for f in Path(work, "benchmarks").rglob("*.tsv")
                    ]
                )
            n_images = len(man)
            det = bench[bench["job"].str.startswith("detect_faces")]["s"].sum()
            emb = bench[bench["job"].str.startswith("embed")]["s"].sum()
            rows.append(
                (
                    f"(c) whole workflow, -c2, cold, {label}",
                    f"{t_cold:.0f} s",
                    f"{n_images} images; job time {bench['s'].sum():.0f} s in benchmarked jobs: "
                    f"detect_faces {det:.0f} s, "
                    f"embed {emb:.0f} s ({n_images / (det + emb):.2f} images/s per core)",
                )
            )
            rows.append((f"(c) no-op re-run, {label}", f"{t_noop:.1f} s", "nothing to be done"))
            rows.append(
                (
                    f"(f) peak memory of any job, {label}",
                    f"{bench['max_rss'].max():.0f} MB",
                    "max_rss in benchmarks/",
                )
            )
        rows.append(
            (
                "(c) Snakemake start-up alone (`snakemake --version`)",
                f"{t_start:.1f} s",
                "part of every run; see docs/performance.md on SLURM tools without a controller",
            )
        )
    # (d) the original approach: re-embed both images of every genuine pair
    all_genuine = genuine_pairs(man)
    n_gen = len(all_genuine)
    pairs = all_genuine.iloc[:: max(1, n_gen // args.pairs)].iloc[: args.pairs]
    by_id = man.set_index("image_id")["path"]
    pair_paths = [
        p
        for a, b in zip(pairs["image_a"], pairs["image_b"], strict=True)
        for p in (Path(by_id[a]), Path(by_id[b]))
    ]
    t_d, _ = bare_dlib(pair_paths)
    rate_d = len(pairs) / t_d
    t_orig = n_gen / rate_d
    t_ours = len(man) / rate_b
    rows.append(
        (
            "(d) original approach (embed both images per pair)",
            f"{rate_d:.2f} pairs/s",
            f"{n_gen} genuine pairs -> {t_orig / 60:.0f} min, "
            f"vs embedding each image once {t_ours / 60:.1f} min: {t_orig / t_ours:.0f}x",
        )
    )

    # (e) scoring throughput
    rng = np.random.default_rng(0)
    unit = normalise(rng.normal(size=(15000, 128)).astype(np.float32))
    n = 5_000_000
    ia = rng.integers(0, 15000, n)
    ib = rng.integers(0, 15000, n)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # a per-core figure
        t_e = min(_timed(cosine_similarity_pairs, unit, ia, ib) for _ in range(3))
    ids = np.array([f"img{i:05d}" for i in range(15000)])
    pairs_df = pd.DataFrame({"image_a": ids[ia[:1_000_000]], "image_b": ids[ib[:1_000_000]]})
    with threadpool_limits(1):
        t_e2 = min(_timed(score_pairs, pairs_df, ids, unit) for _ in range(3))
    rows.append(
        (
            "(e) scoring, vectorised kernel, 1 core",
            f"{n / t_e / 1e6:.1f} M pairs/s",
            f"{n:,} pairs of 128-d vectors",
        )
    )
    rows.append(
        (
            "(e) scoring incl. id lookup (score_pairs)",
            f"{1e6 / t_e2 / 1e6:.1f} M pairs/s",
            "1,000,000 pairs",
        )
    )

    print(f"Machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}")
    print("| measure | result | detail |\n|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
