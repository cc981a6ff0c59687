# Job sizes: memory (mem_mb) and wall time (runtime, minutes) of every rule that can leave
# this process (a SLURM job, or a job the local scheduler must fit into --resources mem_mb=...),
# as functions of the images a shard holds and of the attempt (retries: 1, so a job killed for
# time or memory gets twice both on its second try). Figures: docs/cluster.md, "Job sizes".
import csv
import math
import os

from faceage.images import is_image_name

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


def _count_by_shard(manifest):
    """{shard: rows} of a manifest (the csv module: no pandas in the Snakemake process)."""
    counts = {}
    with open(manifest, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            counts[row["shard"]] = counts.get(row["shard"], 0) + 1
    return counts


def _dataset_images(c):
    """Image files under dataset_path before the manifest exists (a dry run of a new study)."""
    path = Path(c["dataset_path"])
    if is_protocol(c) or not path.is_dir():
        if c["dataset_format"] == "demo":
            return c["demo"]["persons"] * c["demo"]["images_per_person"]
        return 0
    return sum(is_image_name(name) for _, _, names in os.walk(path) for name in names)


_COUNTS = {}


def _shard_counts(wildcards, manifest):
    """{shard: images} of the job's dataset: counted in ``manifest`` once it exists, else the
    dataset's image files shared evenly by the shards (as the manifest will share them, +-1).
    """
    manifest = f"{results(wildcards)}/{manifest}"
    key = (manifest, os.path.getmtime(manifest) if os.path.exists(manifest) else None)
    if key not in _COUNTS:
        if key[1] is not None:
            _COUNTS[key] = _count_by_shard(manifest)
        else:
            c = dconf(wildcards)
            even = math.ceil(_dataset_images(c) / c["shards"])
            _COUNTS[key] = {str(s): even for s in shards(c)}
    return _COUNTS[key]


def shard_images(wildcards):
    """Images the shard's detection job reads."""
    return _shard_counts(wildcards, "manifest.tsv").get(str(wildcards.shard), 0)


def clean_shard_images(wildcards):
    """Images the shard's embedding jobs read (after cleaning)."""
    return _shard_counts(wildcards, "clean/manifest.tsv").get(str(wildcards.shard), 0)


def _minutes(images, env, attempt):
    work = images * SECONDS_PER_IMAGE[env] * MARGIN / 60
    return (START_MINUTES + math.ceil(work)) * attempt


def _mem(images, env, attempt):
    return math.ceil(BASE_MB[env] + images * PER_IMAGE_MB) * attempt


def detect_runtime(wildcards, attempt):
    return _minutes(shard_images(wildcards), "detect", attempt)


def detect_mem_mb(wildcards, attempt):
    return _mem(shard_images(wildcards), "detect", attempt)


def embed_runtime(wildcards, attempt):
    return _minutes(clean_shard_images(wildcards), model_env(wildcards.model), attempt)


def embed_mem_mb(wildcards, attempt):
    return _mem(clean_shard_images(wildcards), model_env(wildcards.model), attempt)


def all_images(wildcards):
    """Images of the whole manifest (an estimator predicts them in one job)."""
    return sum(_shard_counts(wildcards, "manifest.tsv").values())


def attributes_runtime(wildcards, attempt):
    return _minutes(
        all_images(wildcards), get_estimator(wildcards.estimator).env, attempt
    )


def attributes_mem_mb(wildcards, attempt):
    return _mem(all_images(wildcards), get_estimator(wildcards.estimator).env, attempt)


def prepare_mem_mb(wildcards, attempt):
    """The model loaded once, and eigenfaces' PCA over up to 2,000 grey face crops."""
    return (BASE_MB[model_env(wildcards.model)] + 1000) * attempt


def per_attempt(amount):
    """A size measured once (docs/cluster.md), doubled on the retry."""

    def size(wildcards, attempt):
        return amount * attempt

    return size
