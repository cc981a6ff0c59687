"""One vocabulary (ISO/IEC 19795-1 FMR/FNMR): no output column nor configuration key of the
old TAR/FAR names, and one impostor set per column (issue 31). Fast: tiny synthetic inputs."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from faceage.analysis import operating as op
from faceage.analysis import paired as P
from faceage.analysis import verification as v
from faceage.analysis.comparison import compare_models
from faceage.workflow.settings import renamed_key_problems

OLD = re.compile(r"(^|_)(tar|far)(_|$)", re.IGNORECASE)
SCHEMA = Path(__file__).parents[1] / "workflow" / "schemas" / "config.schema.yaml"


def _old(names) -> list[str]:
    return [str(n) for n in names if OLD.search(str(n))]


def _scores(seed=0, n_persons=30, per=4):
    rng = np.random.default_rng(seed)
    rows, pid = [], 0
    for p in range(n_persons):
        ages = np.sort(rng.integers(0, 40, per))
        for i in range(per):
            for j in range(i + 1, per):
                rows.append((pid, f"p{p}", f"p{p}", 1, ages[j] - ages[i], rng.normal(0.6, 0.2)))
                pid += 1
    for _ in range(len(rows)):
        a, b = rng.choice(n_persons, 2, replace=False)
        rows.append((pid, f"p{a}", f"p{b}", 0, int(rng.integers(0, 40)), rng.normal(0.1, 0.2)))
        pid += 1
    cols = ["pair_id", "person_a", "person_b", "genuine", "age_gap", "similarity"]
    return pd.DataFrame(rows, columns=cols)


def _walk_keys(node, prefix=""):
    if isinstance(node, dict):
        for k, sub in node.get("properties", {}).items():
            yield prefix + k
            yield from _walk_keys(sub, prefix + k + ".")


def test_no_output_column_uses_tar_or_far():
    sc = _scores()
    levels = (1e-1, 1e-2)
    metrics, _ = v.verification_metrics(sc, [0, 10], fmr_levels=levels, n_bootstrap=5)
    gen = sc[sc["genuine"] == 1]
    ops = op.OperatingScores.of(gen, sc[sc["genuine"] == 0])
    fnmr = op.fnmr_at_fmr(ops, op.gap_groups(ops.gen_gap, [0, 10]), levels, n_bootstrap=5)
    metrics = op.with_operating_points(metrics, fnmr, levels, "pairs table")
    table = compare_models({"m": metrics}, fmr_levels=levels)
    res = P.paired_comparison({"a": sc, "b": sc}, [0, 10], fmr_levels=levels, n_bootstrap=5)
    names = [*metrics.columns, *fnmr.columns, *table.columns]
    names += [*res.per_model.columns, *res.differences.columns, *res.per_model["metric"]]
    names += list(v.conventions(v.run_settings("m", "s", [0, 10], levels))["settings"])
    assert _old(names) == []
    # one impostor set per column: the ROC figure and the pool figure have distinct names
    assert {"roc_fnmr_at_fmr_0.1", "fnmr_at_fmr_0.1", "roc_impostors"} <= set(metrics.columns)


def test_no_schema_key_uses_tar_or_far():
    schema = yaml.safe_load(SCHEMA.read_text())
    assert _old(_walk_keys(schema)) == []


@pytest.mark.parametrize("prefix", ["", "datasets.fgnet."])
def test_the_old_far_levels_key_names_its_new_key(prefix):
    (msg,) = renamed_key_problems({"verification": {"far_levels": [0.01]}}, prefix)
    assert msg.startswith(f"{prefix}verification.far_levels: renamed")
    assert "verification.fmr_levels" in msg
    assert renamed_key_problems({"verification": {"fmr_levels": [0.01]}}) == []
