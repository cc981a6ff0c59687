"""Per-model timing from Snakemake benchmark files (the original study's time.txt, per image).

Each ``embed`` job writes a Snakemake ``benchmark:`` file (named in
:mod:`faceage.paths`; ``s`` = wall seconds of the job, model loading included;
``cpu_time`` = CPU seconds; ``max_rss`` = MB; one row per repeat); the timing
step gets them as ``{model: [file per shard]}``. :func:`timing_table` sums them
per model and divides by the number of images the model was given:

* ``seconds``: wall seconds summed over the model's shard jobs (the time the
  model would take with one job at a time; with parallel jobs the elapsed
  time is shorter).
* ``cpu_seconds``: CPU seconds summed over the jobs.
* ``cores``: ``cpu_seconds / seconds``, the mean number of cores kept busy.
* ``images_per_second``: ``images / seconds``; ``ms_per_image`` its inverse
  in milliseconds; ``cpu_ms_per_image``: CPU milliseconds per image.
* ``max_rss_mb``: the largest resident memory of any job.
* ``load_seconds``: seconds spent loading the model, summed over the jobs, and
  ``images_per_second_loaded``: images per second of the work after loading,
  from the jobs' own speed records (``benchmarks/embed/*.json``): measured as
  the estimators' ``images_per_second`` is, so the two tables compare.
"""

from __future__ import annotations

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
    "load_seconds",
    "images_per_second_loaded",
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


def timing_table(
    benchmarks: Iterable[tuple[str, int, str | Path]],
    images_per_shard: dict[int, int],
    speeds: dict[tuple[str, int], dict] | None = None,
) -> pd.DataFrame:
    """Timing per model from (model, shard, benchmark file) triples.

    ``speeds``: per (model, shard) the embed job's own speed record
    (:class:`faceage.adapters.Stopwatch`: ``load_seconds`` and ``seconds`` of
    the work after loading), which gives ``load_seconds`` (summed) and
    ``images_per_second_loaded`` - the estimators' convention, so the two
    speed tables compare.

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
                "load_seconds": (speeds or {}).get((model, shard), {}).get("load_seconds", np.nan),
                "work_seconds": (speeds or {}).get((model, shard), {}).get("seconds", np.nan),
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
        load_seconds=("load_seconds", lambda s: s.sum(min_count=len(s))),
        work_seconds=("work_seconds", lambda s: s.sum(min_count=len(s))),
    )
    images = out["images"].where(out["images"] > 0)  # no image: no per-image figure
    out["cores"] = out["cpu_seconds"] / out["seconds"]
    out["images_per_second"] = images / out["seconds"]
    out["ms_per_image"] = 1000 * out["seconds"] / images
    out["cpu_ms_per_image"] = 1000 * out["cpu_seconds"] / images
    out["images_per_second_loaded"] = images / out["work_seconds"]
    return out.reset_index()[TIMING_COLUMNS]
