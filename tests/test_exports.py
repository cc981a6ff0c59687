"""Score exports (``exports: [bob, pyeer]``): the setting, the note beside the files, and the
field's own tool on the demo's exports finding the figures of metrics.tsv the note names.

pyeer is pinned in envs/workflow.yaml (``make setup`` installs it into .venv); bob.measure is
not: its newest release (6.1.1) requires numpy ~=1.26 and bob 12, which the workflow's
numpy 2.4 rules out. It lives in a venv of its own, .venvs/bob (envs/tools/bob.txt, pinned and
hashed; .ci/run builds it), and its test runs it there (tests/helpers/bob_measure_exports.py);
without that venv, or a bob.measure importable here, the test skips with that reason.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from capabilities import missing, need_module, touch
from conftest import ROOT, run_workflow

from faceage import exports
from faceage.workflow.layout import Layout

L = Layout()
COUNTS = {"genuine": 720, "operating_pool": 12000, "pairs": 270}


def test_the_setting_adds_each_models_note_and_asks_for_the_formats_it_names(conf):
    assert not any("/exports/" in f for f in L.dataset_outputs("d", conf(models=["eigenfaces"])))
    c = conf(models=["eigenfaces", "dlib"], exports=["pyeer"])
    notes = [f for f in L.dataset_outputs("d", c) if "/exports/" in f]
    assert notes == ["results/d/exports/eigenfaces/README.txt", "results/d/exports/dlib/README.txt"]
    assert L.export_files("d", c, "dlib") == {
        "genuine": "results/d/exports/dlib/pyeer_genuine.txt",
        "impostor": "results/d/exports/dlib/pyeer_impostor.txt",
        "impostor_pairs": "results/d/exports/dlib/pyeer_impostor_pairs.txt",
    }
    both = L.export_files("d", conf(exports=["bob", "pyeer"]), "m")
    assert set(both) == {"bob", "bob_pairs", "genuine", "impostor", "impostor_pairs"}
    protocol = conf(dataset_format="protocol", models=["dlib"], exports=["bob"])
    assert not any("/exports/" in f for f in L.dataset_outputs("p", protocol))


def test_the_record_names_each_files_impostor_set_and_the_figures_it_reproduces():
    rec = exports.record("m", ["bob", "pyeer"], COUNTS, [1e-2, 1e-3, 1e-4], "matched")
    files = {f["file"]: f for f in rec["files"]}
    assert files["bob_scores.csv"] | {} == {
        "file": "bob_scores.csv",
        "format": "bob",
        "impostors": "operating_pool",
        "n_genuine": 720,
        "n_impostor": 12000,
    }
    assert files["pyeer_impostor_pairs.txt"]["impostors"] == "pairs"
    assert files["pyeer_impostor_pairs.txt"]["n_genuine"] == 0
    assert files["pyeer_genuine.txt"]["impostors"] is None
    sets = rec["impostor_sets"]
    pool = {f["column"]: f["pyeer"] for f in sets["operating_pool"]["figures"]}
    assert pool["fnmr_at_fmr_0.001"] == "fmr1000" and pool["fnmr_at_fmr_0.01"] == "fmr100"
    assert pool["fnmr_at_fmr_0.0001"] is None  # pyeer has no field for it
    assert {"auc", "eer"} <= {f["column"] for f in sets["pairs"]["figures"]}
    assert "auc" not in pool and "matched" in sets["pairs"]["what"]
    text = exports.note(rec)
    assert "pyeer_impostor.txt (pyeer): 12000 impostor scores of operating_pool" in text
    assert "[subset == all] auc" in text
    only_pyeer = exports.record("m", ["pyeer"], COUNTS, [1e-2, 1e-3], "all")
    assert [f["format"] for f in only_pyeer["files"]] == ["pyeer"] * 3


def _pyeer_stats(genuine, impostor):
    from pyeer.eer_info import get_eer_stats

    return get_eer_stats(genuine, impostor)


@pytest.fixture(scope="module")
def demo_exports(demo_run):
    """The finished demo's exports (both formats), made on top of it: only the export jobs run."""
    folder = demo_run / "results" / "demo" / "exports" / "eigenfaces"
    run_workflow(
        demo_run,
        "--config",
        "exports=[bob,pyeer]",
        targets=("results/demo/exports/eigenfaces/README.txt",),
    )
    return folder


@pytest.mark.workflow
@pytest.mark.slow
def test_pyeer_on_the_demo_exports_finds_every_figure_the_note_names(demo_exports, demo_run):
    need_module("pyeer", reason="pyeer (pinned in envs/workflow.yaml) is not installed: make setup")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyeer imports pkg_resources
        from pyeer.eer_stats import get_fmr_op

    rec = json.loads((demo_exports / "exports.json").read_text())
    ver = demo_run / "results" / "demo" / "verification" / "eigenfaces"
    row = pd.read_csv(ver / "metrics.tsv", sep="\t").set_index("subset").loc["all"]
    fnmr = pd.read_csv(ver / "fnmr.tsv", sep="\t")
    fnmr = fnmr[fnmr["gap_bin"] == "all"]
    genuine = np.loadtxt(demo_exports / "pyeer_genuine.txt")
    impostor_file = {"operating_pool": "pyeer_impostor.txt", "pairs": "pyeer_impostor_pairs.txt"}
    checked = []
    for name, s in rec["impostor_sets"].items():
        impostor = np.loadtxt(demo_exports / impostor_file[name])
        assert len(impostor) == s["n_impostor"] > 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            st = _pyeer_stats(genuine, impostor)
        for fig in s["figures"]:
            col = fig["column"]
            if fig["table"] == "fnmr.tsv":
                for _, r in fnmr[np.isfinite(fnmr["fnmr"])].iterrows():
                    got = get_fmr_op(st.fmr, st.fnmr, r["fmr"])[1]
                    assert got == pytest.approx(r["fnmr"], abs=1e-5), (name, r["fmr"])
                    checked.append(f"fnmr.tsv fmr={r['fmr']:g}")
                continue
            want = float(row[col])
            if not np.isfinite(want):  # not estimable on the demo's pool: the table says so
                continue
            if fig["pyeer"] == "eer_low..eer_high":
                assert st.eer_low - 1e-5 <= want <= st.eer_high + 1e-5, (want, st.eer)
            elif fig["pyeer"]:
                assert getattr(st, fig["pyeer"]) == pytest.approx(want, abs=1e-5), col
            elif col == "n_genuine":
                assert len(genuine) == want
            elif col == "n_impostor":
                assert len(impostor) == want
            elif col.startswith("mean_"):
                scores = genuine if "genuine" in col else impostor
                assert scores.mean() == pytest.approx(want, abs=1e-5), col
            else:
                continue
            checked.append(col)
    # the figures the issue compared, on the set each rests on
    assert {"auc", "eer", "fnmr_at_fmr_0.001", "fnmr_at_fmr_0.01"} <= set(checked)
    assert "fnmr.tsv fmr=0.01" in checked
    # pyeer on the pool gives other AUC/EER than the table's (the 0.846 / 0.236): the
    # note says which set each rests on, and the pairs set reproduces them
    pool = _pyeer_stats(genuine, np.loadtxt(demo_exports / "pyeer_impostor.txt"))
    assert abs(pool.auc - row["auc"]) > 0.01

    # the bob.bio CSVs hold the same scores as the pyeer files
    for bob, imp in (("bob_scores.csv", "pyeer_impostor.txt"), ("bob_scores_pairs.csv", None)):
        t = pd.read_csv(demo_exports / bob)
        same = t["probe_subject_id"].astype(str) == t["bio_ref_subject_id"].astype(str)
        np.testing.assert_allclose(np.sort(t.loc[same, "score"]), np.sort(genuine), atol=1e-6)
        other = np.loadtxt(demo_exports / (imp or "pyeer_impostor_pairs.txt"))
        np.testing.assert_allclose(np.sort(t.loc[~same, "score"]), np.sort(other), atol=1e-6)
    assert "pairs" in (demo_exports / "README.txt").read_text()


BOB_HELPER = Path(__file__).with_name("helpers") / "bob_measure_exports.py"
TABLE_ROUNDING = 1e-6  # metrics.tsv and fnmr.tsv hold 6 decimals


def _bob_python() -> str:
    """An interpreter with bob.measure: .venvs/bob (``$FACEAGE_VENVS/bob``; envs/tools/bob.txt,
    built by .ci/run), else this one if bob.measure imports here; skip (fail where CI declares
    ``venv-bob``) without either."""
    venv = Path(os.environ.get("FACEAGE_VENVS", ROOT / ".venvs")) / "bob"
    touch("venv-bob")
    if (venv / ".ready").exists():
        return str(venv / "bin" / "python")
    try:
        if importlib.util.find_spec("bob.measure") is not None:
            return sys.executable
    except ModuleNotFoundError:  # no package "bob" at all
        pass
    missing(
        "venv-bob",
        f"bob.measure is neither in {venv} ({venv}/.ready absent; build it: python3 -m venv "
        f"{venv} && {venv}/bin/pip install --require-hashes -r envs/tools/bob.txt && touch "
        f"{venv}/.ready) nor importable here: its newest release, 6.1.1, requires numpy ~=1.26 "
        "and bob 12, so it does not install beside the workflow (numpy 2.4)",
    )


def _bob_measure(python: str, scores: Path, levels: list[float]) -> dict:
    """tests/helpers/bob_measure_exports.py's figures of the bob.bio CSV ``scores``."""
    proc = subprocess.run(
        [python, str(BOB_HELPER), str(scores), json.dumps(levels)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "2", "NUMBA_NUM_THREADS": "2"},
    )
    assert proc.returncode == 0, f"bob.measure on {scores.name} failed:\n{proc.stderr[-4000:]}"
    got = json.loads(proc.stdout)
    got["at_fmr"] = {row[0]: row[1:] for row in got["at_fmr"]}
    return got


def _fnmr_at(got: dict, level: float, fmr_achieved: float | None = None) -> float:
    """bob.measure's FNMR at FMR ``level`` in the workflow's convention (the lowest threshold
    that accepts the impostors bob's ``far_threshold`` accepts), checked against bob's own."""
    fmr_high, fnmr_high, fmr_low, fnmr_low = got["at_fmr"][level]
    assert fmr_low == fmr_high <= level, (level, fmr_low, fmr_high)  # the same impostors
    assert fnmr_low <= fnmr_high, level  # bob's threshold, the highest, rejects more genuine
    if fmr_achieved is not None:
        assert fmr_low == pytest.approx(fmr_achieved, abs=TABLE_ROUNDING), level
    return fnmr_low


@pytest.mark.e2e
@pytest.mark.slow
def test_bob_measure_on_the_demo_exports_finds_every_figure_the_note_names(request):
    python = _bob_python()  # before the demo runs: a skip costs nothing
    demo_exports = request.getfixturevalue("demo_exports")
    demo_run = request.getfixturevalue("demo_run")
    rec = json.loads((demo_exports / "exports.json").read_text())
    ver = demo_run / "results" / "demo" / "verification" / "eigenfaces"
    row = pd.read_csv(ver / "metrics.tsv", sep="\t").set_index("subset").loc["all"]
    fnmr = pd.read_csv(ver / "fnmr.tsv", sep="\t")
    fnmr = fnmr[(fnmr["gap_bin"] == "all") & np.isfinite(fnmr["fnmr"])]
    bob_file = {f["impostors"]: f["file"] for f in rec["files"] if f["format"] == "bob"}
    assert set(bob_file) == set(rec["impostor_sets"]) == {"operating_pool", "pairs"}
    checked = []
    for name, s in rec["impostor_sets"].items():
        at = [f["column"] for f in s["figures"] if "fnmr_at_fmr_" in f["column"]]
        levels = sorted({float(c.rsplit("_", 1)[1]) for c in at} | set(fnmr["fmr"].astype(float)))
        got = _bob_measure(python, demo_exports / bob_file[name], levels)
        assert got["n_impostor"] == s["n_impostor"] > 0, name
        assert got["n_genuine"] == rec["n_genuine"] > 0, name
        for fig in s["figures"]:
            col = fig["column"]
            if fig["table"] == "fnmr.tsv":
                for _, r in fnmr.iterrows():
                    have = _fnmr_at(got, float(r["fmr"]), float(r["fmr_achieved"]))
                    assert have == pytest.approx(r["fnmr"], abs=TABLE_ROUNDING), (name, r["fmr"])
                    checked.append(f"fnmr.tsv fmr={r['fmr']:g}")
                continue
            want = float(row[col])
            if not np.isfinite(want):  # not estimable on the demo's pool: the table says so
                continue
            if col == "eer":
                # bob.measure's eer is (FMR + FNMR) / 2 at one threshold, the table's the ROC's
                # FMR = FNMR crossing, interpolated: within the step between their two rates
                lo, hi = sorted((got["eer_fmr"], got["eer_fnmr"]))
                slack = TABLE_ROUNDING
                assert lo - slack <= want <= hi + slack, (want, got["eer"], lo, hi)
            elif "fnmr_at_fmr_" in col:
                have = _fnmr_at(got, float(col.rsplit("_", 1)[1]))
                assert have == pytest.approx(want, abs=TABLE_ROUNDING), (name, col)
            elif col in got:  # auc, n_genuine, n_impostor, mean_*_similarity
                assert got[col] == pytest.approx(want, abs=TABLE_ROUNDING), (name, col)
            else:
                continue
            checked.append(col)
    # every figure the demo estimates (its 270 impostor pairs leave roc_fnmr_at_fmr_<f> empty)
    assert {"auc", "eer", "n_genuine", "n_impostor", "mean_impostor_similarity"} <= set(checked)
    assert {"fnmr_at_fmr_0.001", "fnmr_at_fmr_0.01", "fnmr.tsv fmr=0.01"} <= set(checked)
