# Job sizes: memory (mem_mb) and wall time (runtime, minutes) of every rule that can leave
# this process, from the images a job reads, its environment and the attempt
# (faceage.workflow.resources; figures: docs/cluster.md, "Job sizes").
from faceage.workflow import resources as _sizes
from faceage.workflow.resources import per_attempt


def shard_images(wildcards):
    """Images the shard's detection job reads."""
    counts = _sizes.shard_counts(LAYOUT.manifest(wildcards.dataset), dconf(wildcards))
    return counts.get(str(wildcards.shard), 0)


def clean_shard_images(wildcards):
    """Images the shard's embedding jobs read (after cleaning)."""
    manifest = LAYOUT.clean_manifest(wildcards.dataset)
    return _sizes.shard_counts(manifest, dconf(wildcards)).get(str(wildcards.shard), 0)


def all_images(wildcards):
    """Images of the whole manifest (an estimator predicts them in one job)."""
    manifest = LAYOUT.manifest(wildcards.dataset)
    return sum(_sizes.shard_counts(manifest, dconf(wildcards)).values())


def detect_runtime(wildcards, attempt):
    return _sizes.detect_runtime(shard_images(wildcards), attempt)


def detect_mem_mb(wildcards, attempt):
    max_side = dconf(wildcards)["clean"]["max_side"]
    return _sizes.detect_mem_mb(shard_images(wildcards), attempt, max_side)


def embed_runtime(wildcards, attempt):
    env = model_env(wildcards.model)
    return _sizes.embed_runtime(clean_shard_images(wildcards), env, attempt)


def embed_mem_mb(wildcards, attempt):
    env = model_env(wildcards.model)
    max_side = dconf(wildcards)["clean"]["max_side"]
    return _sizes.embed_mem_mb(clean_shard_images(wildcards), env, attempt, max_side)


def attributes_runtime(wildcards, attempt):
    env = _interp.estimator_env(wildcards.estimator)
    return _sizes.attributes_runtime(all_images(wildcards), env, attempt)


def attributes_mem_mb(wildcards, attempt):
    env = _interp.estimator_env(wildcards.estimator)
    max_side = dconf(wildcards)["clean"]["max_side"]
    return _sizes.attributes_mem_mb(all_images(wildcards), env, attempt, max_side)


def prepare_mem_mb(wildcards, attempt):
    return _sizes.prepare_mem_mb(model_env(wildcards.model), attempt)
