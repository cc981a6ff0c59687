"""Timing table from Snakemake benchmark files."""

import numpy as np
import pandas as pd
import pytest

from faceage import steps
from faceage.analysis.timing import TIMING_COLUMNS, read_benchmark, timing_table
from faceage.contracts import write_manifest
from faceage.paths import benchmark_path, read_benchmark_name

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def bench(path, rows):
    path.write_text(
        HEADER
        + "".join(
            f"{s}\t0:00:{int(s):02d}\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n" for s, cpu, rss in rows
        )
    )
    return path


def test_read_benchmark_takes_median_of_repeats(tmp_path):
    b = read_benchmark(bench(tmp_path / "x.tsv", [(10, 15, 100), (12, 18, 140), (30, 40, 90)]))
    assert b == {"seconds": 12.0, "cpu_seconds": 18.0, "max_rss_mb": 140.0}


def test_read_benchmark_na_and_garbage(tmp_path):
    (tmp_path / "na.tsv").write_text(HEADER + "5.0\t0:00:05\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\n")
    b = read_benchmark(tmp_path / "na.tsv")
    assert b["seconds"] == 5.0 and np.isnan(b["cpu_seconds"])
    (tmp_path / "bad.tsv").write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="not a Snakemake benchmark"):
        read_benchmark(tmp_path / "bad.tsv")


def test_parse_names_with_underscores():
    """The one reader of benchmark names (faceage estimate) reads back what benchmark_path makes."""
    made = benchmark_path("embed", "fgnet", "insightface_paddle", "shard3")
    assert made == "benchmarks/embed/fgnet_insightface_paddle_shard3.tsv"
    assert read_benchmark_name(made, "fgnet") == ("insightface_paddle", 3)
    assert read_benchmark_name(benchmark_path("detect_faces", "fgnet", "shard0"), "fgnet") == (
        "",
        0,
    )
    assert read_benchmark_name("agedb_dlib_shard0.tsv", "fgnet") is None


def test_timing_table_sums_shards_and_divides_by_images(tmp_path):
    files = [
        ("dlib", 0, bench(tmp_path / "a.tsv", [(10, 10, 300)])),
        ("dlib", 1, bench(tmp_path / "b.tsv", [(30, 50, 500)])),
        ("deepface", 0, bench(tmp_path / "c.tsv", [(100, 200, 2000)])),
    ]
    t = timing_table(files, {0: 100, 1: 300}).set_index("model")
    assert list(t.reset_index().columns) == TIMING_COLUMNS
    assert t.loc["dlib", "images"] == 400 and t.loc["dlib", "shards"] == 2
    assert t.loc["dlib", "seconds"] == 40 and t.loc["dlib", "cpu_seconds"] == 60
    assert t.loc["dlib", "images_per_second"] == pytest.approx(10.0)
    assert t.loc["dlib", "ms_per_image"] == pytest.approx(100.0)
    assert t.loc["dlib", "cores"] == pytest.approx(1.5)
    assert t.loc["dlib", "max_rss_mb"] == 500
    assert t.loc["deepface", "images_per_second"] == pytest.approx(1.0)
    assert t.loc["deepface", "cpu_ms_per_image"] == pytest.approx(2000.0)
    # a shard that cleaning emptied (not in the clean manifest) embedded 0 images:
    # no crash, no per-image figure
    empty = timing_table([("dlib", 2, files[0][2])], {0: 1}).iloc[0]
    assert (
        empty["images"] == 0
        and np.isnan(empty["images_per_second"])
        and np.isnan(empty["ms_per_image"])
    )
    assert timing_table([], {}).empty


def test_timing_step_from_manifest_and_a_mapping_of_files(tmp_path):
    """The rule hands the files over as {model: [shard 0, shard 1, ...]}: any file name works."""
    manifest = pd.DataFrame(
        {
            "image_id": list("abcde"),
            "path": list("abcde"),
            "person": list("11223"),
            "age": [1, 2, 3, 4, 5],
            "gender": "",
            "source": list("abcde"),
            "shard": [0, 0, 1, 1, 1],
        }
    )
    write_manifest(manifest, tmp_path / "manifest.tsv")
    b0 = bench(tmp_path / "first.tsv", [(1.0, 1.8, 10)])
    b1 = bench(tmp_path / "second.tsv", [(1.5, 2.7, 12)])

    def run(benchmarks, out):
        steps.run(
            "timing_table",
            input={"manifest": str(tmp_path / "manifest.tsv")},
            output={"table": str(tmp_path / out)},
            settings={"benchmarks": benchmarks},
        )
        return pd.read_csv(tmp_path / out, sep="\t")

    back = run({"insightface": [b0, b1]}, "timing.tsv")
    assert back.loc[0, "model"] == "insightface" and back.loc[0, "images"] == 5
    assert back.loc[0, "images_per_second"] == pytest.approx(2.0)
    assert back.loc[0, "cores"] == pytest.approx(1.8)
    assert run({"insightface": [b0]}, "one.tsv").loc[0, "images"] == 2
    assert len(back) == 1
