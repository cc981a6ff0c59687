#!/usr/bin/env python3
"""The operating impostor pool at CACD size, each job as the workflow runs it (docs/performance.md).

    .venv/bin/python scripts/bench_pool.py [--persons 2000] [--images 60] [--work DIR]
        [--before SRC]

`faceage bench scale` at 2000x80 draws and embeds 119,114 demo images before its analysis (about
an hour on 2 cores); this bench skips the images: a synthetic clean manifest of PERSONS x IMAGES
(distinct ages per person) and synthetic 128-d embeddings with a person effect, then the steps
that the pool adds or changes - ``pairs``, ``operating_pairs``, ``scores``, ``operating_scores``,
``verification_metrics`` (1000 bootstrap iterations, the operating points included) and
``operating_plots`` - each in its own process, with the workflow's allocator setting, reporting
its wall time and peak RSS. 2000 x 60 gives 7.1 M pairs (3.5 M genuine), the size of the scale
bench's 2000x80 (7.2 M), and a pool of the default 1,000,000 pairs. ``--before SRC`` also runs
``verification_metrics`` of another checkout's package (``SRC``: its ``src`` folder, e.g. of
``git archive f04bbfb``), which knows no pool, on the same scores: the cost the pool adds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

CHILD = """
import json, resource, sys, time
from faceage.steps import run
job = json.loads(sys.argv[1])
t0 = time.perf_counter()
run(job["rule"], input=job["input"], output=job["output"], settings=job.get("settings"),
    wildcards=job.get("wildcards"))
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def defaults(section: str) -> dict:
    """The schema's defaults of one config section (one level of nesting)."""
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    props = schema["properties"][section]["properties"]
    return {k: v["default"] for k, v in props.items() if "default" in v}


def make_inputs(work: Path, persons: int, images: int, seed: int = 0) -> None:
    from faceage import contracts as c

    rng = np.random.default_rng(seed)
    rows = []
    for p in range(persons):
        for age in np.sort(rng.choice(80, size=images, replace=False)):
            iid = f"person{p:04d}/{age}.png"
            rows.append({"image_id": iid, "path": iid, "person": f"person{p:04d}", "age": age})
    man = pd.DataFrame(rows)
    man["gender"], man["source"], man["shard"] = pd.NA, man["image_id"], 0
    for col in c.FACE_COLUMNS:
        man[col] = np.nan
    c.write_table(man, work / "clean_manifest.tsv", c.CLEAN_COLUMNS)
    n = len(man)
    person = rng.normal(0, 1, (persons, 128)).astype(np.float32)
    vectors = person[np.repeat(np.arange(persons), images)] + rng.normal(0, 1.2, (n, 128))
    c.write_embeddings(
        work / "embeddings.npz",
        man["image_id"].to_numpy(str),
        vectors.astype(np.float32),
        np.full(n, c.STATUS_OK),
        np.full(n, -1),
        np.full((n, 4), np.nan),
        np.full(n, np.nan),
    )


def jobs(work: Path) -> list[dict]:
    comp = defaults("comparisons")
    ver = defaults("verification")
    w = str(work)
    return [
        {
            "rule": "pairs",
            "input": {"manifest": f"{w}/clean_manifest.tsv"},
            "output": {"pairs": f"{w}/pairs.parquet", "summary": f"{w}/pairs_by_gap.tsv"},
            "settings": comp,
        },
        {
            "rule": "operating_pairs",
            "input": {"manifest": f"{w}/clean_manifest.tsv"},
            "output": {"pairs": f"{w}/operating_pairs.parquet"},
            "settings": {k: comp[k] for k in ("impostors", "operating_impostors", "seed")}
            | {"age_bins": comp["age_bins"]},
        },
        {
            "rule": "scores",
            "input": {"pairs": f"{w}/pairs.parquet", "embeddings": f"{w}/embeddings.npz"},
            "output": {"scores": f"{w}/scores.parquet"},
        },
        {
            "rule": "operating_scores",
            "input": {
                "pairs": f"{w}/operating_pairs.parquet",
                "embeddings": f"{w}/embeddings.npz",
            },
            "output": {"scores": f"{w}/operating_scores.parquet"},
        },
        {
            "rule": "verification_metrics",
            "input": {
                "scores": f"{w}/scores.parquet",
                "operating": f"{w}/operating_scores.parquet",
            },
            "output": {
                k: f"{w}/ver/{k}.{ext}"
                for k, ext in (
                    ("metrics", "tsv"),
                    ("roc", "tsv"),
                    ("conventions", "json"),
                    ("fnmr", "tsv"),
                    ("fnmr_by_year", "tsv"),
                )
            },
            "settings": ver,
            "wildcards": {"model": "synthetic"},
        },
        {
            "rule": "operating_plots",
            "input": {
                "scores": f"{w}/scores.parquet",
                "operating": f"{w}/operating_scores.parquet",
                "fnmr": f"{w}/ver/fnmr.tsv",
                "fnmr_by_year": f"{w}/ver/fnmr_by_year.tsv",
            },
            "output": {
                "det": f"{w}/ver/det.tsv",
                "det_plot": f"{w}/ver/det.png",
                "fnmr_plot": f"{w}/ver/fnmr_by_gap.png",
                "fnmr_year_plot": f"{w}/ver/fnmr_by_year.png",
            },
            "settings": {"gap_bins": ver["gap_bins"], "fmr_levels": ver["fmr_levels"]},
            "wildcards": {"model": "synthetic"},
        },
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=2000)
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--before", type=Path, help="src folder of the code to compare with")
    a = ap.parse_args()
    work = a.work or Path(tempfile.mkdtemp(prefix="faceage-pool-"))
    (work / "ver").mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(SRC))
    make_inputs(work, a.persons, a.images)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "MALLOC_MMAP_THRESHOLD_": os.environ.get("MALLOC_MMAP_THRESHOLD_", str(1 << 20)),
    }
    todo = [(job["rule"], job, env) for job in jobs(work)]
    if a.before:
        old = next(j for j in jobs(work) if j["rule"] == "verification_metrics")
        old = {**old, "input": {"scores": old["input"]["scores"]}}
        old["output"] = {k: v.replace("/ver/", "/ver_before/") for k, v in old["output"].items()}
        (work / "ver_before").mkdir(exist_ok=True)
        todo.append(("verification_metrics (before)", old, {**env, "PYTHONPATH": str(a.before)}))
    rows = []
    for name, job, job_env in todo:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(job)],
            capture_output=True,
            text=True,
            env=job_env,
        )
        if proc.returncode != 0:
            sys.exit(f"{name} failed:\n{proc.stderr[-3000:]}")
        rows.append({"job": name, **json.loads(proc.stdout.strip().splitlines()[-1])})
    n_pairs = len(pd.read_parquet(work / "pairs.parquet", columns=["genuine"]))
    pool = len(pd.read_parquet(work / "operating_pairs.parquet", columns=["genuine"]))
    print(
        f"### {a.persons} persons x {a.images} images: {n_pairs:,} pairs, "
        f"operating pool {pool:,} pairs\n"
    )
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".1f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
