"""Per-model timing from Snakemake benchmark files (the original study's time.txt, per image).

Each ``embed`` job writes ``benchmarks/embed/<dataset>_<model>_shard<k>.tsv``
(Snakemake's ``benchmark:`` file: ``s`` = wall seconds of the job, model
loading included; ``cpu_time`` = CPU seconds; ``max_rss`` = MB; one row per
repeat). :func:`timing_table` sums them per model and divides by the number
of images the model was given:

* ``seconds``: wall seconds summed over the model's shard jobs (the time the
  model would take with one job at a time; with parallel jobs the elapsed
  time is shorter).
* ``cpu_seconds``: CPU seconds summed over the jobs.
* ``cores``: ``cpu_seconds / seconds``, the mean number of cores kept busy.
* ``images_per_second``: ``images / seconds``; ``ms_per_image`` its inverse
  in milliseconds; ``cpu_ms_per_image``: CPU milliseconds per image.
* ``max_rss_mb``: the largest resident memory of any job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

TIMING_COLUMNS = [
    "model",
    "shards",
    "images",
    "seconds",
    "cpu_seconds",
    "cores",
    "images_per_second",
    "ms_per_image",
    "cpu_ms_per_image",
    "max_rss_mb",
]


def read_benchmark(path: str | Path) -> dict:
    """One benchmark file -> {seconds, cpu_seconds, max_rss_mb} (median over repeats; NA -> NaN)."""
    df = pd.read_csv(path, sep="\t", na_values=["NA", "-"])
    if df.empty or "s" not in df.columns:
        raise ValueError(f"{path}: not a Snakemake benchmark file (no 's' column or no rows)")

    def col(name: str) -> pd.Series:
        if name not in df.columns:
            return pd.Series([np.nan])
        return pd.to_numeric(df[name], errors="coerce")

    return {
        "seconds": float(col("s").median()),
        "cpu_seconds": float(col("cpu_time").median()),
        "max_rss_mb": float(col("max_rss").max()),
    }


def parse_benchmark_name(path: str | Path, dataset: str) -> tuple[str, int]:
    """``<dataset>_<model>_shard<k>.tsv`` -> (model, k); model names may contain underscores."""
    name = Path(path).name
    m = re.fullmatch(re.escape(dataset) + r"_(?P<model>.+)_shard(?P<shard>\d+)\.tsv", name)
    if not m:
        raise ValueError(f"{name}: expected {dataset}_<model>_shard<k>.tsv")
    return m["model"], int(m["shard"])


def timing_table(
    benchmarks: Iterable[tuple[str, int, str | Path]], images_per_shard: dict[int, int]
) -> pd.DataFrame:
    """Timing per model from (model, shard, benchmark file) triples.

    ``images_per_shard``: images given to each shard job (the clean
    manifest's shard sizes, aliases not counted; every model embeds the same
    images). A shard the manifest does not hold was emptied by cleaning: its
    job embedded 0 images.
    """
    rows = []
    for model, shard, path in benchmarks:
        rows.append(
            {
                "model": model,
                "shard": shard,
                "images": images_per_shard.get(shard, 0),
                **read_benchmark(path),
            }
        )
    if not rows:
        return pd.DataFrame(columns=TIMING_COLUMNS)
    per_job = pd.DataFrame(rows)
    out = per_job.groupby("model", sort=True).agg(
        shards=("shard", "nunique"),
        images=("images", "sum"),
        seconds=("seconds", "sum"),
        cpu_seconds=("cpu_seconds", lambda s: s.sum(min_count=1)),
        max_rss_mb=("max_rss_mb", "max"),
    )
    images = out["images"].where(out["images"] > 0)  # no image: no per-image figure
    out["cores"] = out["cpu_seconds"] / out["seconds"]
    out["images_per_second"] = images / out["seconds"]
    out["ms_per_image"] = 1000 * out["seconds"] / images
    out["cpu_ms_per_image"] = 1000 * out["cpu_seconds"] / images
    return out.reset_index()[TIMING_COLUMNS]


def timing_from_files(
    benchmark_files: Iterable[str | Path], dataset: str, manifest: pd.DataFrame
) -> pd.DataFrame:
    """:func:`timing_table` for files named ``<dataset>_<model>_shard<k>.tsv``."""
    from faceage.contracts import own_content

    sizes = own_content(manifest).groupby("shard").size()
    counts = {int(k): int(v) for k, v in sizes.items()}
    triples = [(*parse_benchmark_name(p, dataset), p) for p in benchmark_files]
    return timing_table(triples, counts)


def write_timing(
    benchmark_files: Iterable[str | Path],
    dataset: str,
    manifest_path: str | Path,
    out_path: str | Path,
) -> pd.DataFrame:
    """Read the clean manifest and the benchmark files; write the timing TSV (rounded)."""
    from faceage.contracts import atomic_path, read_manifest

    table = timing_from_files(benchmark_files, dataset, read_manifest(manifest_path))
    with atomic_path(out_path) as tmp:
        table.round(4).to_csv(tmp, sep="\t", index=False)
    return table
