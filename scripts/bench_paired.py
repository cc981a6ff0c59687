#!/usr/bin/env python3
"""Cost of the paired comparison (numbers for docs/performance.md).

    .venv/bin/python scripts/bench_paired.py [--iterations 1000] [--models 2 3 5]
    .venv/bin/python scripts/bench_paired.py --results results/fgnet [--iterations 1000]

Times the parts of the paired comparison (rules ``paired_differences``, ``paired_fnmr``) - the
common pairs, the paired subject bootstrap (AUC, TAR, d', age robustness and slope of every
model and model pair, overall and per gap bin) and the deployed-threshold FNMR curve - on one
core:

* by default on synthetic scores shaped like FG-NET (82 persons, 1002 images, every genuine pair
  and twice as many impostor pairs - enough for FMR 1e-3, as in docs/verification.md's run), for
  2, 3 and 5 models;
* with ``--results`` on a finished run's ``scores/<model>.tsv`` (every model in it).

Prints a Markdown table: models, pairs, iterations, seconds per part and in all.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from faceage.analysis import paired as pc  # noqa: E402
from faceage.contracts import SCORE_COLUMNS, read_table  # noqa: E402

GAP_BINS = [0, 5, 10, 20, 30]


def synthetic_scores(n_models: int, persons: int = 82, images: int = 1002, seed: int = 0):
    """{model: scores table}: FG-NET-like persons and ages, all genuine pairs, twice as many
    impostors;
    model k separates people a little less well than model k-1."""
    rng = np.random.default_rng(seed)
    person = np.sort(rng.integers(0, persons, images))
    age = rng.integers(0, 70, images)
    a, b = np.triu_indices(images, k=1)
    gen = person[a] == person[b]
    imp = np.flatnonzero(~gen)
    keep = np.concatenate([np.flatnonzero(gen), rng.choice(imp, 2 * gen.sum(), replace=False)])
    a, b = a[keep], b[keep]
    genuine = (person[a] == person[b]).astype(int)
    gap = np.abs(age[a] - age[b])
    pairs = pd.DataFrame(
        {
            "pair_id": np.arange(len(a)),
            "image_a": [f"i{i}" for i in a],
            "image_b": [f"i{i}" for i in b],
            "person_a": [f"p{p}" for p in person[a]],
            "person_b": [f"p{p}" for p in person[b]],
            "age_a": age[a],
            "age_b": age[b],
            "age_gap": gap,
            "genuine": genuine,
        }
    )
    out = {}
    for k in range(n_models):
        signal = genuine * (0.6 - 0.01 * gap - 0.05 * k)
        out[f"model{k}"] = pairs.assign(similarity=signal + rng.normal(0, 0.15, len(pairs)))
    return out


def measure(scores: dict, iterations: int) -> dict:
    t0 = time.perf_counter()
    common = pc.common_pairs(scores)
    t1 = time.perf_counter()
    pc.paired_comparison(common, GAP_BINS, n_bootstrap=iterations, seed=0)
    t2 = time.perf_counter()
    pc.deployed_fnmr(common, GAP_BINS, n_bootstrap=iterations, seed=0)
    t3 = time.perf_counter()
    return {
        "models": len(scores),
        "pairs": len(common.pairs),
        "iterations": iterations,
        "common pairs (s)": round(t1 - t0, 2),
        "paired bootstrap (s)": round(t2 - t1, 2),
        "FNMR curve (s)": round(t3 - t2, 2),
        "total (s)": round(t3 - t0, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--models", type=int, nargs="+", default=[2, 3, 5])
    ap.add_argument("--results", type=Path, help="a finished run's results/<dataset> folder")
    a = ap.parse_args()
    rows = []
    if a.results:
        files = sorted((a.results / "scores").glob("*.tsv"))
        if len(files) < 2:
            sys.exit(f"{a.results}/scores holds {len(files)} score tables; need 2 or more")
        scores = {f.stem: read_table(f, SCORE_COLUMNS) for f in files}
        rows.append({"scores": str(a.results), **measure(scores, a.iterations)})
    else:
        for n in a.models:
            rows.append(
                {"scores": "synthetic FG-NET-like", **measure(synthetic_scores(n), a.iterations)}
            )
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
