"""Scale smoke test: scripts/bench_scale.py end to end at one size that runs in well under a
minute of analysis (the large sizes and their numbers are in docs/performance.md), and its growth
table between sizes on given job timings."""

import re
import subprocess
import sys

import pandas as pd
import pytest
from bench_scale import growth
from conftest import ROOT


@pytest.mark.slow
def test_bench_scale_small_size_runs_and_parquet_is_small():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_scale.py"), "--sizes", "60x10"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    m = re.search(r"= [\d,]+ images, ([\d,]+) pairs \(([\d,]+) genuine, impostor ratio 1\)", out)
    pairs, genuine = (int(g.replace(",", "")) for g in m.groups())
    assert genuine == 60 * 45  # every genuine pair: 60 persons x C(10, 2)
    assert 1.95 * genuine <= pairs <= 2 * genuine  # and (nearly) as many matched impostors
    ratio = float(re.search(r"\(([\d.]+) of the TSV bytes\)", out).group(1))
    assert ratio <= 0.25  # the goal: Parquet pairs + scores at most a quarter of TSV
    jobs = re.findall(r"^\| (\w+) \(", out, re.M)
    for job in ("pairs", "scores", "verification_metrics", "ageing_model", "age_probe"):
        assert job in jobs, out
    assert "### Growth" not in out  # one size: nothing to grow from


def run(pairs: int, **jobs: tuple[float, float]) -> pd.DataFrame:
    """One size's job table as bench_scale.jobs gives it: job -> (seconds, peak RSS in MB)."""
    rows = [{"job": j, "seconds": s, "max_rss_mb": mb} for j, (s, mb) in jobs.items()]
    return pd.DataFrame(rows).assign(pairs=pairs)


def test_growth_is_the_extra_cost_per_extra_pair_between_sizes():
    small = run(1_000_000, scores=(3.0, 100.0), probe=(2.0, 50.0), only_small=(1.0, 1.0))
    mid = run(3_000_000, scores=(5.0, 300.0), probe=(2.0, 50.0))
    big = run(7_000_000, scores=(13.0, 500.0), probe=(1.9, 50.0))
    table = growth([big, small, mid])  # in any order: sorted by pairs
    rows = {r.split("|")[1].strip(): [c.strip() for c in r.split("|")[2:-1]] for r in
            table.splitlines() if r.startswith("| ") and "job" not in r}  # fmt: skip
    assert set(rows) == {"scores", "probe"}  # a job missing from a size has no row
    head = [c.strip() for c in table.splitlines()[2].split("|")[2:-1]]
    scores = dict(zip(head, rows["scores"], strict=True))
    # 2 s / 2 M pairs = 1 us per pair, then 8 s / 4 M = 2 us: the last step costs twice the first
    assert float(scores["us/pair 1.0->3.0 M"]) == 1.0
    assert float(scores["us/pair 3.0->7.0 M"]) == 2.0
    assert float(scores["us ratio last/first"]) == 2.0
    assert float(scores["B/pair 1.0->3.0 M"]) == 100.0  # 200 MB / 2 M pairs
    assert float(scores["B ratio last/first"]) == 0.5
    probe = dict(zip(head, rows["probe"], strict=True))
    assert probe["us ratio last/first"] == "-"  # no growth to compare: no ratio
