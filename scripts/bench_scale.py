#!/usr/bin/env python3
"""How the analysis after the embeddings scales with the number of pairs (docs/performance.md).

    .venv/bin/python scripts/bench_scale.py [--sizes 200x40 1000x60 2000x80 2000x80:7.3]
        [--cores 2] [--work DIR]

For each size PERSONSxIMAGES[:RATIO] the synthetic demo (eigenfaces, every genuine pair and RATIO
matched impostors per genuine pair, default 1) runs in a temporary folder (or in
``DIR/<size>``, kept and reused: the demo and its embeddings are made once) in two parts: up
to the embeddings, then - timed, every analysis job forced to run - the rest
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
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "workflow" / "Snakefile"),
        "-d",
        str(work),
    ]
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


def one_size(
    persons: int, images: int, ratio: float, cores: int, work: Path | None
) -> tuple[str, pd.DataFrame]:
    keep = work is not None
    if work is None:
        work = Path(tempfile.mkdtemp(prefix=f"faceage-scale-{persons}x{images}-"))
    work.mkdir(parents=True, exist_ok=True)
    cfg = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text())
    cfg["demo"] = {**cfg.get("demo", {}), "persons": persons, "images_per_person": images}
    cfg["dataset_path"] = str(work / "resources" / "demo")
    cfg["attributes"] = {"enabled": False}
    cfg["comparisons"] = {**cfg.get("comparisons", {}), "impostor_ratio": ratio}
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    emb = "results/demo/embeddings/eigenfaces.npz"
    before = snakemake(work, cores, emb, "--rerun-triggers", "mtime")  # a kept run: reuse it
    shutil.rmtree(work / "benchmarks", ignore_errors=True)
    analysis = snakemake(
        work, cores, "--forcerun", "pairs", "operating_pairs", "projections", "age_probe"
    )
    res = work / "results" / "demo"
    pairs = pd.read_parquet(res / "pairs.parquet", columns=["genuine"])
    n_images = len(pd.read_csv(res / "manifest.tsv", sep="\t", usecols=["image_id"]))
    n = len(pairs)
    parquet = (res / "pairs.parquet").stat().st_size + (
        res / "scores" / "eigenfaces.parquet"
    ).stat().st_size
    snakemake(work, 1, "results/demo/tsv/pairs.tsv", "results/demo/tsv/scores/eigenfaces.tsv")
    tsv = sum((res / "tsv" / p).stat().st_size for p in ("pairs.tsv", "scores/eigenfaces.tsv"))
    # what the metrics read of the scores: compact (read_compact) against read_table's types
    sys.path.insert(0, str(ROOT / "src"))
    from faceage import contracts as c
    from faceage.steps.verification import METRIC_COLUMNS

    scores, cols = res / "scores" / "eigenfaces.parquet", METRIC_COLUMNS
    compact = c.read_compact(scores, cols).memory_usage(deep=True).sum()
    full = c.read_table(scores, only=cols).memory_usage(deep=True).sum()
    t = jobs(work).sort_values("seconds", ascending=False)
    t["us_per_pair"] = (t["seconds"] * 1e6 / n).round(1)
    t["bytes_per_pair"] = (t["max_rss_mb"] * 1e6 / n).round(0)
    head = (
        f"### {persons} persons x {images} images (at most one per age) = {n_images:,} images, "
        f"{n:,} pairs ({int(pairs['genuine'].sum()):,} genuine, impostor ratio {ratio:g})\n\n"
        f"- up to the embeddings: {before:.0f} s; the analysis after them: {analysis:.0f} s "
        f"(-c{cores})\n"
        f"- Parquet pairs + scores: {parquet / 1e6:.1f} MB; as TSV: {tsv / 1e6:.1f} MB "
        f"({parquet / tsv:.2f} of the TSV bytes)\n"
        f"- the metrics' columns of the scores in memory: {compact / 1e6:.0f} MB compact "
        f"(read_compact), {full / 1e6:.0f} MB with read_table's types\n\n"
    )
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return head + t.to_markdown(index=False, floatfmt=".1f") + "\n", t.assign(pairs=n)


def growth(runs: list[pd.DataFrame]) -> str:
    """Per job, the extra time and memory per extra pair from one size to the next, and the
    ratio of the last step's to the first's: linear growth keeps it near 1 (a job's fixed cost,
    the interpreter and its libraries, cancels out). Jobs whose cost does not follow the pairs
    (projections, the age probe: the images) give increments near zero, and no ratio."""
    rows = []
    by_job = [r.set_index("job") for r in sorted(runs, key=lambda r: r["pairs"].iloc[0])]
    for job in by_job[0].index:
        if not all(job in r.index for r in by_job):
            continue
        row = {"job": job}
        steps = []
        for a, b in zip(by_job, by_job[1:], strict=False):
            dn = b.loc[job, "pairs"] - a.loc[job, "pairs"]
            us = (b.loc[job, "seconds"] - a.loc[job, "seconds"]) * 1e6 / dn
            byte = (b.loc[job, "max_rss_mb"] - a.loc[job, "max_rss_mb"]) * 1e6 / dn
            label = f"{a.loc[job, 'pairs'] / 1e6:.1f}->{b.loc[job, 'pairs'] / 1e6:.1f} M"
            row[f"us/pair {label}"] = round(us, 2)
            row[f"B/pair {label}"] = round(byte, 1)
            steps.append((us, byte))
        if len(steps) > 1:  # a ratio only where both steps grew (not noise around zero)
            for k, unit in ((0, "us"), (1, "B")):
                first, last = steps[0][k], steps[-1][k]
                ok = first > 0 and last > 0
                row[f"{unit} ratio last/first"] = round(last / first, 2) if ok else None
        rows.append(row)
    head = "### Growth: extra cost per extra pair between sizes\n\n"
    table = pd.DataFrame(rows).astype(object)
    return head + table.where(table.notna(), "-").to_markdown(index=False) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["200x40", "1000x60", "2000x80"])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--work", type=Path, help="run (and keep) the sizes in DIR/<size>")
    a = ap.parse_args()
    runs = []
    for size in a.sizes:
        shape, _, ratio = size.lower().partition(":")
        persons, images = (int(x) for x in shape.split("x"))
        work = a.work / shape if a.work else None  # ratios share the demo and its embeddings
        text, table = one_size(persons, images, float(ratio or 1), a.cores, work)
        print(text, flush=True)
        runs.append(table)
    if len(runs) > 1:
        print(growth(runs), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
