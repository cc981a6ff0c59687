"""Job sizes: memory (``mem_mb``) and wall time (``runtime``, minutes) of every rule that can
leave the Snakemake process (a SLURM job, or a job the local scheduler must fit into
``--resources mem_mb=...``), as functions of the images a job reads, the environment it runs in
and the attempt (retries: 1, so a job killed for time or memory gets twice both on its second
try). Figures: docs/cluster.md, "Job sizes".

Each stage has its own function (:func:`detect_mem_mb`, :func:`embed_mem_mb`, ...) over the
shared per-image model (:func:`mem_mb`, :func:`runtime_minutes`): a stage whose memory grows
with something else (e.g. the largest image it decodes) changes its own function only.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from faceage.images import is_image_name
from faceage.workflow.datasets import is_protocol, shards

# Wall seconds per image of one job, model loading included, measured on this project's 2-core
# machine (docs/cluster.md, docs/models.md, docs/performance.md), rounded up: detection (HOG)
# 0.078 s; dlib 0.087 s; insightface's small pack 0.011 s (buffalo_l is several times heavier);
# deepface 0.4 s (2.5 images/s); insightface-paddle with tiny networks 0.023 s; eigenfaces is
# dominated by its image reads. Per environment, the unit a model's job runs in.
SECONDS_PER_IMAGE = {
    "detect": 0.1,
    "dlib": 0.1,
    "core": 0.02,
    "insightface": 0.1,
    "deepface": 0.4,
    "paddle": 0.1,
}
# Peak memory (MB) apart from the images: measured 111 MB (detection) and 221 MB (dlib); the deep
# learning runtimes load more (TensorFlow ~2 GB). Plus PER_IMAGE_MB for what a shard job keeps
# per image until it writes (vectors up to 512 float32, detection facts, its table row).
BASE_MB = {
    "detect": 1000,
    "dlib": 1000,
    "core": 1000,
    "insightface": 2000,
    "deepface": 4000,
    "paddle": 2000,
}
PER_IMAGE_MB = 0.05
# Safety factor on the measured seconds (slower nodes, larger images, a busy file system), and
# the minutes every job gets for starting (interpreter, imports, model loading on a cold node).
MARGIN = 3
START_MINUTES = 2
# What prepare_model holds beside its model: eigenfaces' PCA over up to 2,000 grey face crops.
PREPARE_MB = 1000


# The clean.max_side BASE_MB was measured with: each covers one decode at it
# (faceage.images.decode_peak_mb, 440 MiB; docs/robustness.md). A larger max_side keeps
# larger working copies, and the jobs that decode images get the difference on top.
BASE_MAX_SIDE = 1600


def decode_extra_mb(max_side: int) -> int:
    """MB a job that decodes images needs beyond BASE_MB with images shrunk to ``max_side``
    (0 at or below BASE_MAX_SIDE)."""
    from faceage.images import decode_peak_mb

    return max(0, math.ceil(decode_peak_mb(max_side) - decode_peak_mb(BASE_MAX_SIDE)))


# How many images a job reads.


def count_by_shard(manifest: str | Path) -> dict[str, int]:
    """{shard: rows} of a manifest (the csv module: no pandas in the Snakemake process)."""
    counts: dict[str, int] = {}
    with open(manifest, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            counts[row["shard"]] = counts.get(row["shard"], 0) + 1
    return counts


def dataset_images(c: dict) -> int:
    """Image files under dataset_path before the manifest exists (a dry run of a new study):
    the demo's drawn count, 0 for a protocol dataset or a missing folder."""
    path = Path(c["dataset_path"])
    if is_protocol(c) or not path.is_dir():
        if c["dataset_format"] == "demo":
            return c["demo"]["persons"] * c["demo"]["images_per_person"]
        return 0
    return sum(is_image_name(name) for _, _, names in os.walk(path) for name in names)


_COUNTS: dict[tuple[str, float | None], dict[str, int]] = {}


def shard_counts(manifest: str, c: dict) -> dict[str, int]:
    """{shard: images} of the dataset of configuration ``c``: counted in ``manifest`` once it
    exists, else the dataset's image files shared evenly by the shards (as the manifest will
    share them, +-1). Kept per manifest and modification time (every job asks)."""
    key = (manifest, os.path.getmtime(manifest) if os.path.exists(manifest) else None)
    if key not in _COUNTS:
        if key[1] is not None:
            _COUNTS[key] = count_by_shard(manifest)
        else:
            even = math.ceil(dataset_images(c) / c["shards"])
            _COUNTS[key] = {str(s): even for s in shards(c)}
    return _COUNTS[key]


# Sizes from images, environment and attempt.


def runtime_minutes(images: int, env: str, attempt: int) -> int:
    """Minutes for a job over ``images`` in environment ``env``: START_MINUTES plus the
    measured seconds per image times MARGIN, times the attempt."""
    work = images * SECONDS_PER_IMAGE[env] * MARGIN / 60
    return (START_MINUTES + math.ceil(work)) * attempt


def mem_mb(images: int, env: str, attempt: int) -> int:
    """MB for a job that keeps ``images`` in environment ``env``: BASE_MB plus PER_IMAGE_MB
    per image, times the attempt."""
    return math.ceil(BASE_MB[env] + images * PER_IMAGE_MB) * attempt


def detect_runtime(images: int, attempt: int) -> int:
    """detect_faces over a shard of ``images``."""
    return runtime_minutes(images, "detect", attempt)


def detect_mem_mb(images: int, attempt: int, max_side: int = BASE_MAX_SIDE) -> int:
    """detect_faces over a shard of ``images`` shrunk to ``max_side``."""
    return mem_mb(images, "detect", attempt) + decode_extra_mb(max_side) * attempt


def embed_runtime(images: int, env: str, attempt: int) -> int:
    """embed over a shard of ``images`` (after cleaning) in the model's environment."""
    return runtime_minutes(images, env, attempt)


def embed_mem_mb(images: int, env: str, attempt: int, max_side: int = BASE_MAX_SIDE) -> int:
    """embed over a shard of ``images`` (after cleaning, shrunk to ``max_side``) in the
    model's environment."""
    return mem_mb(images, env, attempt) + decode_extra_mb(max_side) * attempt


def attributes_runtime(images: int, env: str, attempt: int) -> int:
    """attributes_predict over the whole manifest in the estimator's environment."""
    return runtime_minutes(images, env, attempt)


def attributes_mem_mb(images: int, env: str, attempt: int, max_side: int = BASE_MAX_SIDE) -> int:
    """attributes_predict over the whole manifest (shrunk to ``max_side``) in the estimator's
    environment."""
    return mem_mb(images, env, attempt) + decode_extra_mb(max_side) * attempt


def prepare_mem_mb(env: str, attempt: int) -> int:
    """prepare_model: the model loaded once, and PREPARE_MB for eigenfaces' PCA."""
    return (BASE_MB[env] + PREPARE_MB) * attempt


def per_attempt(amount):
    """A size measured once (docs/cluster.md), doubled on the retry: a rule's resource
    function ``(wildcards, attempt) -> amount * attempt``."""

    def size(wildcards, attempt):
        return amount * attempt

    return size
