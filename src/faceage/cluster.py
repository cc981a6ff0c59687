"""Sizing cluster jobs from a finished run's benchmarks.

A run writes one Snakemake benchmark per heavy job: benchmarks/detect_faces/<dataset>_shard<N>.tsv
and benchmarks/embed/<dataset>_<model>_shard<N>.tsv (columns s = wall seconds, max_rss = MB,
cpu_time = CPU seconds). Divided by the images of that shard they give seconds per image, which
scale to another dataset size and shard count: the wall time to ask SLURM for (``runtime``,
minutes) and the memory (MB). Used by ``faceage estimate``; see docs/cluster.md.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

# Seconds per image are wall seconds of the job (model loading included). Snakemake's cpu_time is
# not used: for a shell rule it misses the work of the job's child process (the model's own
# interpreter), and reported dlib's embedding at 0.025 s/image when the descriptor alone
# takes 0.116.
RATE_COLUMNS = ["rule", "model", "shards", "images", "s_per_image", "max_rss_mb"]


def read_benchmarks(bench_dir: str | Path, dataset: str, rule: str) -> pd.DataFrame:
    """One row per benchmarked job of ``rule``.

    Columns: model ('' for detection), shard, s, cpu_time, max_rss.
    """
    from faceage.paths import read_benchmark_name

    rows = []
    for path in sorted(Path(bench_dir, rule).glob(f"{dataset}_*shard*.tsv")):
        named = read_benchmark_name(path, dataset)
        if named is None:
            continue
        b = pd.read_csv(path, sep="\t")
        # A job benchmarked with repeat() has several lines: take the slowest.
        last = b.loc[b["s"].idxmax()]
        rows.append(
            {
                "model": named[0],
                "shard": named[1],
                "s": float(last["s"]),
                "cpu_time": float(last.get("cpu_time", float("nan"))),
                "max_rss": float(last.get("max_rss", float("nan"))),
            }
        )
    return pd.DataFrame(rows, columns=["model", "shard", "s", "cpu_time", "max_rss"])


def images_per_shard(manifest: pd.DataFrame) -> pd.Series:
    """Images each shard job decodes and embeds, by column ``shard``.

    Aliases are embedded once, as their original.
    """
    from faceage.contracts import own_content

    return own_content(manifest).groupby("shard").size()


def rates(bench: pd.DataFrame, counts: pd.Series, rule: str) -> pd.DataFrame:
    """Wall seconds per image per model, from the slowest shard: the one that sets the wall time."""
    out = []
    for model, b in bench.groupby("model", sort=True):
        n = b["shard"].map(counts).astype(float)
        ok = n > 0
        if not ok.any():
            continue
        b, n = b[ok], n[ok]
        out.append(
            {
                "rule": rule,
                "model": model,
                "shards": len(b),
                "images": int(n.sum()),
                "s_per_image": float((b["s"] / n).max()),
                "max_rss_mb": float(b["max_rss"].max()),
            }
        )
    return pd.DataFrame(out, columns=RATE_COLUMNS)


def suggest(rate: pd.DataFrame, images: int, shards: int, margin: float = 3.0) -> pd.DataFrame:
    """Wall time (minutes, rounded up to 5) and memory (MB) to ask for one shard.

    A shard holds ``images``/``shards`` images.

    ``margin`` covers slower nodes, bigger images and the queue's start-up; at least 5 minutes
    and 1000 MB (twice the measured peak) are asked.
    """
    per_shard = math.ceil(images / shards)
    out = rate.copy()
    out["images_per_shard"] = per_shard
    minutes = out["s_per_image"] * per_shard * margin / 60
    out["runtime_min"] = [max(5, 5 * math.ceil(m / 5)) for m in minutes]
    out["mem_mb"] = [max(1000, int(math.ceil(2 * r / 100) * 100)) for r in out["max_rss_mb"]]
    return out


def estimate(
    dataset: str, images: int, shards: int, margin: float = 3.0, workdir: str | Path = "."
) -> tuple[pd.DataFrame, list[str]]:
    """``faceage estimate``: the suggested resources, and what could not be read (one line each)."""
    from faceage.contracts import read_table

    work = Path(workdir)
    sources = {
        "detect_faces": work / "results" / dataset / "manifest.tsv",
        "embed": work / "results" / dataset / "clean" / "manifest.tsv",
    }
    found, problems = [], []
    for rule, manifest in sources.items():
        bench = read_benchmarks(work / "benchmarks", dataset, rule)
        if bench.empty:
            problems.append(f"{rule}: no benchmarks/{rule}/{dataset}_*.tsv yet")
            continue
        if not manifest.is_file():
            problems.append(f"{rule}: {manifest} missing: run the workflow first")
            continue
        found.append(rates(bench, images_per_shard(read_table(manifest)), rule))
    if not found:
        return pd.DataFrame(), problems
    return suggest(pd.concat(found, ignore_index=True), images, shards, margin), problems


def parse_plan(text: str) -> tuple[str, int, int]:
    """``NAME=IMAGES:SHARDS`` (a dataset of a planned study) -> (name, images, shards)."""
    name, sep, rest = text.partition("=")
    images, sep2, shards = rest.partition(":")
    try:
        if not (name and sep and sep2):
            raise ValueError
        plan = (name, int(images), int(shards))
    except ValueError:
        raise ValueError(
            f"--plan {text!r}: expected NAME=IMAGES:SHARDS, e.g. cacd=163446:64"
        ) from None
    if plan[1] < 1 or plan[2] < 1:
        raise ValueError(f"--plan {text!r}: images and shards must be at least 1")
    return plan


def estimate_study(
    dataset: str,
    plans: list[tuple[str, int, int]],
    margin: float = 3.0,
    workdir: str | Path = ".",
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """A whole study sized from one measured run (``dataset``): per planned dataset (name,
    images, shards) and heavy rule x model, the resources of one shard job (as
    :func:`estimate`); and the totals per planned dataset and for the study: jobs, and the
    compute they need (measured seconds per image x images, in core-hours, no margin)."""
    per, problems = [], []
    for name, images, shards in plans:
        table, problems = estimate(dataset, images, shards, margin, workdir)
        if table.empty:
            return pd.DataFrame(), pd.DataFrame(), problems
        table = table.rename(columns={"shards": "measured_shards", "images": "measured_images"})
        per.append(table.assign(dataset=name, images=images, jobs=shards))
    jobs = pd.concat(per, ignore_index=True)
    jobs["core_hours"] = jobs["s_per_image"] * jobs["images"] / 3600
    cols = ["dataset", *[c for c in jobs if c != "dataset"]]
    jobs = jobs[cols]
    totals = jobs.groupby("dataset", sort=False)[["jobs", "core_hours"]].sum().reset_index()
    totals.loc[len(totals)] = ["study", totals["jobs"].sum(), totals["core_hours"].sum()]
    return jobs, totals, problems
