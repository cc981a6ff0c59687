"""faceage.workflow.resources: job sizes from the images a job reads, its environment and the
attempt, and the images counted per shard (a manifest, or the dataset's files before it)."""

from __future__ import annotations

import os

from faceage.attributes import ESTIMATORS, get_estimator
from faceage.models import MODELS, get_adapter
from faceage.workflow import resources as sizes


def test_every_environment_has_its_figures():
    envs = {get_adapter(m).env for m in MODELS} | {get_estimator(e).env for e in ESTIMATORS}
    envs.add("detect")
    assert envs <= set(sizes.SECONDS_PER_IMAGE), envs - set(sizes.SECONDS_PER_IMAGE)
    assert envs <= set(sizes.BASE_MB), envs - set(sizes.BASE_MB)


def test_sizes_from_images_and_attempt():
    # 3000 images x 0.1 s x 3 (margin) = 15 min, + 2 to start; 1000 MB + 3000 x 0.05 MB
    assert sizes.detect_runtime(3000, 1) == 17
    assert sizes.detect_mem_mb(3000, 1) == 1150
    assert sizes.detect_runtime(3000, 2) == 34  # the retry gets twice both
    assert sizes.detect_mem_mb(3000, 2) == 2300
    # deepface: 100 x 0.4 x 3 / 60 = 2 min; 4000 + 5 MB
    assert sizes.embed_runtime(100, "deepface", 1) == 4
    assert sizes.embed_mem_mb(100, "deepface", 1) == 4005
    assert sizes.attributes_mem_mb(1, "core", 1) == 1001  # rounded up
    assert sizes.attributes_runtime(0, "core", 3) == 6
    assert sizes.prepare_mem_mb("insightface", 2) == 6000
    assert sizes.per_attempt(20)(None, 2) == 40


def test_count_by_shard(tmp_path):
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("image_id\tshard\na\t0\nb\t1\nc\t1\n")
    assert sizes.count_by_shard(manifest) == {"0": 1, "1": 2}


def test_dataset_images_before_the_manifest(tmp_path, conf):
    assert sizes.dataset_images(conf(demo={"persons": 3, "images_per_person": 4})) == 12
    (tmp_path / "p").mkdir()
    for name in ("a.jpg", "p/b.png", "notes.txt"):
        (tmp_path / name).touch()
    assert sizes.dataset_images(conf(dataset_format="folders", dataset_path=str(tmp_path))) == 2
    assert sizes.dataset_images(conf(dataset_format="protocol", dataset_path=str(tmp_path))) == 0
    missing = conf(dataset_format="folders", dataset_path=str(tmp_path / "none"))
    assert sizes.dataset_images(missing) == 0


def test_shard_counts_share_the_images_until_the_manifest_counts_them(tmp_path, conf):
    c = conf(demo={"persons": 10, "images_per_person": 10}, shards=3)
    manifest = str(tmp_path / "manifest.tsv")
    assert sizes.shard_counts(manifest, c) == {"0": 34, "1": 34, "2": 34}
    with open(manifest, "w") as f:
        f.write("image_id\tshard\n" + "".join(f"x{i}\t{int(i >= 5)}\n" for i in range(8)))
    assert sizes.shard_counts(manifest, c) == {"0": 5, "1": 3}
    with open(manifest, "a") as f:  # a manifest written again is counted again
        f.write("y\t1\n")
    st = os.stat(manifest)
    os.utime(manifest, (st.st_atime, st.st_mtime + 10))
    assert sizes.shard_counts(manifest, c) == {"0": 5, "1": 4}


def test_decoding_jobs_get_the_decode_memory_of_a_larger_max_side():
    from faceage.images import decode_peak_mb
    from faceage.workflow import resources as r

    assert r.decode_extra_mb(r.BASE_MAX_SIDE) == 0 and r.decode_extra_mb(800) == 0
    extra = r.decode_extra_mb(4000)
    assert extra >= decode_peak_mb(4000) - decode_peak_mb(r.BASE_MAX_SIDE) > 500
    assert r.detect_mem_mb(10, 1, 4000) == r.detect_mem_mb(10, 1) + extra
    assert r.embed_mem_mb(10, "dlib", 2, 4000) == r.embed_mem_mb(10, "dlib", 2) + 2 * extra
    assert r.attributes_mem_mb(10, "dlib", 1, 4000) == r.attributes_mem_mb(10, "dlib", 1) + extra
    # at the default, every decoding environment's base covers one decode beyond its model
    # (dlib measured at 221 MB, docs/cluster.md)
    assert min(r.BASE_MB.values()) >= 221 + decode_peak_mb(r.BASE_MAX_SIDE)
