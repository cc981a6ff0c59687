#!/usr/bin/env python3
"""How the analysis after the embeddings scales with the number of pairs (docs/performance.md).

    .venv/bin/python scripts/bench_scale.py [--sizes 200x40 1000x60 2000x80] [--cores 2]

For each size PERSONSxIMAGES the synthetic demo (eigenfaces, every genuine pair and matched
impostors) runs in a temporary folder in two parts: up to the embeddings, then - timed - the rest
(pairs, scores, verification, ageing model, age probe, similarity tables, projections, plots,
paired comparison, report tables). Prints a Markdown table per size: each analysis job's wall
time and peak RSS (Snakemake's benchmark files) and its cost per pair, the wall time of the whole
analysis, and the bytes of the Parquet pairs + scores against their TSV export.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
BEFORE_ANALYSIS = ("embed", "prepare_model", "detect_faces", "demo_dataset", "merge_embeddings")


def snakemake(work: Path, cores: int, *targets: str) -> float:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(work)]
    # targets before --configfile, which takes several values
    cmd += [*targets, f"-c{cores}", "--configfile", str(work / "config.yaml")]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"snakemake failed in {work}:\n{proc.stderr[-4000:]}")
    return time.perf_counter() - t0


def jobs(work: Path) -> pd.DataFrame:
    rows = []
    for f in sorted((work / "benchmarks").rglob("*.tsv")):
        rule = f.parent.name
        if rule in BEFORE_ANALYSIS:
            continue
        b = pd.read_csv(f, sep="\t").iloc[0]
        rows.append({"job": f"{rule} ({f.stem})", "seconds": b["s"], "max_rss_mb": b["max_rss"]})
    return pd.DataFrame(rows)


def one_size(persons: int, images: int, cores: int, keep: Path | None) -> str:
    work = Path(tempfile.mkdtemp(prefix=f"faceage-scale-{persons}x{images}-"))
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["demo"] = {**cfg.get("demo", {}), "persons": persons, "images_per_person": images}
    cfg["dataset_path"] = str(work / "resources" / "demo")
    cfg["attributes"] = {"enabled": False}
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    before = snakemake(work, cores, "results/demo/embeddings/eigenfaces.npz")
    analysis = snakemake(work, cores)
    res = work / "results" / "demo"
    pairs = pd.read_parquet(res / "pairs.parquet", columns=["genuine"])
    n = len(pairs)
    parquet = (res / "pairs.parquet").stat().st_size + (
        res / "scores" / "eigenfaces.parquet"
    ).stat().st_size
    snakemake(work, 1, "results/demo/tsv/pairs.tsv", "results/demo/tsv/scores/eigenfaces.tsv")
    tsv = sum((res / "tsv" / p).stat().st_size for p in ("pairs.tsv", "scores/eigenfaces.tsv"))
    t = jobs(work).sort_values("seconds", ascending=False)
    t["us_per_pair"] = (t["seconds"] * 1e6 / n).round(1)
    t["bytes_per_pair"] = (t["max_rss_mb"] * 1e6 / n).round(0)
    head = (
        f"### {persons} persons x {images} images = {persons * images:,} images, {n:,} pairs "
        f"({int(pairs['genuine'].sum()):,} genuine)\n\n"
        f"- up to the embeddings: {before:.0f} s; the analysis after them: {analysis:.0f} s "
        f"(-c{cores})\n"
        f"- Parquet pairs + scores: {parquet / 1e6:.1f} MB; as TSV: {tsv / 1e6:.1f} MB "
        f"({parquet / tsv:.2f} of the TSV bytes)\n\n"
    )
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return head + t.to_markdown(index=False, floatfmt=".1f") + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["200x40", "1000x60", "2000x80"])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the run folders")
    a = ap.parse_args()
    for size in a.sizes:
        persons, images = (int(x) for x in size.lower().split("x"))
        print(one_size(persons, images, a.cores, Path(".") if a.keep else None), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
