"""Scale smoke test: scripts/bench_scale.py end to end at a size that runs in well under a minute
of analysis (the large sizes and their numbers are in docs/performance.md)."""

import re
import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_bench_scale_small_size_runs_and_parquet_is_small():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_scale.py"), "--sizes", "30x10", "60x10"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    m = re.search(
        r"= [\d,]+ images, ([\d,]+) pairs \(([\d,]+) genuine, impostor ratio 1\)",
        out.split("### 60")[1],
    )
    pairs, genuine = (int(g.replace(",", "")) for g in m.groups())
    assert genuine == 60 * 45  # every genuine pair: 60 persons x C(10, 2)
    assert 1.95 * genuine <= pairs <= 2 * genuine  # and (nearly) as many matched impostors
    ratio = float(re.search(r"\(([\d.]+) of the TSV bytes\)", out).group(1))
    assert ratio <= 0.25  # the goal: Parquet pairs + scores at most a quarter of TSV
    jobs = re.findall(r"^\| (\w+) \(", out, re.M)
    for job in ("pairs", "scores", "verification_metrics", "ageing_model", "age_probe"):
        assert job in jobs, out
    # two sizes: the extra cost per extra pair, job by job
    growth = out.split("### Growth")[1]
    assert re.search(r"^\| verification_metrics \(", growth, re.M), growth
