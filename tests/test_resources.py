"""Job sizes in the rules (workflow/rules/resources.smk, faceage.workflow.resources): memory and
wall time from the images a shard holds, seen the way a user sees them, in `snakemake -n` on the
CACD preset (the functions alone: tests/test_workflow_resources.py)."""

import re

import pytest
from conftest import ROOT, run_workflow


def job_resources(out: str) -> dict[str, dict[str, dict[str, str]]]:
    """rule -> shard -> the `resources:` line of that job, from a dry run's listing."""
    jobs: dict[str, dict[str, dict[str, str]]] = {}
    rule = shard = None
    for line in out.splitlines():
        if m := re.match(r"^(?:local)?rule (\w+):", line):
            rule, shard = m.group(1), None
        if m := re.match(r"^\s+wildcards: .*shard=(\d+)", line):
            shard = m.group(1)
        if (m := re.match(r"^\s+resources: (.*)", line)) and rule and shard is not None:
            jobs.setdefault(rule, {})[shard] = dict(kv.split("=", 1) for kv in m[1].split(", "))
    return jobs


def dry_run(work, *config):
    proc = run_workflow(
        work, "-n", "--config", "dataset_path=CACD2000", *config,
        configfile=ROOT / "config" / "cacd.yaml",
    )  # fmt: skip
    return job_resources(proc.stdout)


def sizes(jobs, rule, shard="0"):
    return int(jobs[rule][shard]["runtime"]), int(jobs[rule][shard]["mem_mb"])


@pytest.mark.slow  # over 15 s on 2 cores (tests/README.md)
@pytest.mark.workflow
def test_cacd_dry_run_sizes_grow_with_the_shard(tmp_path):
    data = tmp_path / "CACD2000"
    data.mkdir()
    for i in range(6000):  # CACD's names; empty files: a dry run reads none
        (data / f"{20 + i % 40}_Person_{i % 300}_{i:04d}.jpg").touch()
    # Before the manifest exists: the dataset's image files shared by the shards.
    small, large = dry_run(tmp_path, "shards=30"), dry_run(tmp_path, "shards=2")
    for rule in ("detect_faces", "embed"):
        (t_small, m_small), (t_large, m_large) = sizes(small, rule), sizes(large, rule)
        assert t_large > t_small and m_large > m_small, (rule, small[rule], large[rule])
        assert len(small[rule]) == 30 and len(large[rule]) == 2
    # 3000 images x 0.1 s x 3 (margin) = 15 min, + 2 to start; 1000 MB + 3000 x 0.05 MB
    assert sizes(large, "detect_faces") == (17, 1150)
    # Once the manifest exists its shards are counted: a bigger shard gets a bigger job.
    manifest = tmp_path / "results" / "cacd" / "manifest.tsv"
    manifest.parent.mkdir(parents=True)
    rows = [f"x{i}.jpg\t{int(i >= 100)}" for i in range(2100)]  # shard 0: 100, shard 1: 2000
    manifest.write_text("image_id\tshard\n" + "\n".join(rows) + "\n")
    counted = dry_run(tmp_path, "shards=2")
    (t0, m0), (t1, m1) = sizes(counted, "detect_faces", "0"), sizes(counted, "detect_faces", "1")
    assert t1 > t0 and m1 > m0
    assert (t1, m1) == (2 + 10, 1000 + 100)
