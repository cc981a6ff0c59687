"""Age and gender: evaluation tables, label flags, review round trip, estimators.

The default estimator (agegender) runs here on real faces from
../shared/datasets/utkface_small (skipped without ../shared). The insightface
estimator runs in .venvs/insightface (skipped until its .ready marker exists)
with a random-init genderage.onnx written by tests/helpers, and SCRFD-500M
from ../shared; deepface's age/gender weights (VGG-Face, ~500 MB each) are not
available offline, so only its missing-weights error is tested.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from capabilities import missing  # noqa: E402

from faceage.attributes import ESTIMATORS, get_estimator
from faceage.attributes.evaluation import (
    age_group,
    age_table,
    balance,
    gender_confusion,
    gender_table,
    summary,
)
from faceage.attributes.flags import (
    flag_labels,
    review_sheet,
    verdicts_to_overrides,
)
from faceage.attributes.predict import apply_overrides, predict_frame, read_predictions
from faceage.contracts import read_table, write_manifest
from faceage.contracts.overrides import append_overrides, read_overrides
from faceage.models.base import MissingWeightsError
from faceage.steps.attributes import run_flags, run_predict

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
UTK = SHARED / "datasets" / "utkface_small"
SCRFD = SHARED / "models" / "scrfd_500m_bnkps.onnx"


def need(path: Path) -> Path:
    if not path.exists():
        missing(
            "shared",
            f"{path} absent: this test needs ../shared (real faces/models, research use only)",
        )
    return path


def ready_python(env: str) -> Path:
    venv = Path(os.environ.get("FACEAGE_VENVS", ROOT / ".venvs")) / env
    if not (venv / ".ready").exists():
        missing(
            f"venv-{env}", f"{venv}/.ready absent: the {env} venv is not built (make venv-{env})"
        )
    return venv / "bin" / "python"


# --- evaluation on fixed predictions (hand-computed) ---------------------------


@pytest.fixture
def fixed():
    # errors (pred - age): -2, +6, 0, +3, -10, missing prediction, +1
    return pd.DataFrame(
        {
            "image_id": list("abcdefg"),
            "age": pd.array([5, 8, 15, 25, 30, 40, 85], dtype="Int64"),
            "gender": ["F", "M", "F", "M", "F", "M", None],
            "age_pred": [3.0, 14.0, 15.0, 28.0, 20.0, np.nan, 86.0],
            "gender_pred": ["F", "F", "M", "M", "F", None, "M"],
        }
    )


def predict_command(py, estimator, settings, weights, manifest, out, timing):
    """The attributes_predict rule's command: the step in the estimator's interpreter."""
    step_settings = {
        "estimator": estimator,
        "estimator_settings": settings,
        "weights_dir": str(weights),
        "max_side": 1600,
        "batch_size": 32,
    }
    return [
        str(py),
        "-m",
        "faceage",
        "step",
        "attributes_predict",
        "--label",
        f"attributes {estimator}",
        f"--input=manifest={manifest}",
        f"--output=predictions={out}",
        f"--output=timing={timing}",
        "--settings",
        json.dumps(step_settings),
    ]


def test_age_groups_left_edges():
    g = age_group(pd.Series([0, 9, 10, 79, 80, 120, None]), [0, 10, 80])
    assert list(g.fillna("NA")) == ["0-9", "0-9", "10-79", "10-79", "80+", "80+", "NA"]


def test_age_table_hand_computed(fixed):
    t = age_table(fixed, [0, 10, 20], cs=5).set_index("group")
    # all: |e| = 2, 6, 0, 3, 10, 1 -> MAE 22/6; bias (-2+6+0+3-10+1)/6 = -1/3
    assert t.loc["all", "n"] == 6
    assert t.loc["all", "mae"] == pytest.approx(22 / 6)
    assert t.loc["all", "bias"] == pytest.approx(-1 / 3)
    assert t.loc["all", "cs5"] == pytest.approx(4 / 6)  # 2, 0, 3, 1 within 5 years
    assert t.loc["all", "median_ae"] == pytest.approx(2.5)
    assert t.loc["all", "rmse"] == pytest.approx(math.sqrt((4 + 36 + 0 + 9 + 100 + 1) / 6))
    # 0-9: errors -2, +6
    assert t.loc["0-9", "n"] == 2
    assert t.loc["0-9", "mae"] == pytest.approx(4.0)
    assert t.loc["0-9", "bias"] == pytest.approx(2.0)
    assert t.loc["0-9", "cs5"] == pytest.approx(0.5)
    # 10-19: error 0; 20+: errors +3, -10, +1
    assert t.loc["10-19", "mae"] == 0 and t.loc["10-19", "cs5"] == 1
    assert t.loc["20+", "n"] == 3
    assert t.loc["20+", "mae"] == pytest.approx(14 / 3)
    assert t.loc["20+", "bias"] == pytest.approx(-2.0)


def test_gender_tables_hand_computed(fixed):
    t = gender_table(fixed, [0, 10, 20]).set_index("group")
    # usable rows (both labels): a F/F, b M/F, c F/M, d M/M, e F/F -> 3 of 5 right
    assert t.loc["all", "n"] == 5
    assert t.loc["all", "accuracy"] == pytest.approx(0.6)
    assert t.loc[
        "all", ["true_F_pred_F", "true_F_pred_M", "true_M_pred_F", "true_M_pred_M"]
    ].tolist() == [2, 1, 1, 1]
    assert t.loc["all", "female_recall"] == pytest.approx(2 / 3)
    assert t.loc["all", "male_recall"] == pytest.approx(0.5)
    assert t.loc["0-9", "accuracy"] == pytest.approx(0.5)  # a right, b wrong
    assert t.loc["10-19", "accuracy"] == 0  # c wrong
    assert t.loc["20+", "accuracy"] == 1  # d, e right
    m = gender_confusion(fixed).set_index("true")
    assert m.loc["F"].tolist() == [2, 1] and m.loc["M"].tolist() == [1, 1]


def test_summary_and_balance(fixed):
    s = summary(fixed, {"images_per_second": 12.5}, "x")
    assert s["images"] == 7 and s["predicted"] == 6 and s["gender_n"] == 5
    assert s["mae"] == pytest.approx(22 / 6) and s["gender_accuracy"] == pytest.approx(0.6)
    assert s["images_per_second"] == 12.5
    b = balance(fixed, [0, 10, 20], age_min=6, age_max=80)
    assert list(b["image_id"]) == ["b", "c", "d", "e", "f"]
    capped = balance(fixed, [0, 10, 20], cap_per_bin=1, seed=3)
    assert len(capped) == 3  # one per group: 0-9, 10-19, 20+
    assert sorted(age_group(capped["age"], [0, 10, 20])) == ["0-9", "10-19", "20+"]
    assert capped.equals(balance(fixed, [0, 10, 20], cap_per_bin=1, seed=3))  # seeded


# --- flags and the review round trip ------------------------------------------


def flagged_frame():
    return pd.DataFrame(
        {
            "image_id": ["ok", "gender_wrong", "unsure", "child", "age_wrong", "old"],
            "person": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "age": pd.array([30, 30, 30, 5, 20, 100], dtype="Int64"),
            "gender": ["M", "F", "F", "F", "M", "F"],
            "age_pred": [32.0, 31.0, 30.0, 6.0, 60.0, 78.0],
            "gender_pred": ["M", "M", "M", "M", "M", "F"],
            "gender_conf": [0.99, 0.99, 0.80, 0.99, 0.99, 0.99],
        }
    )


def test_flag_rules():
    f = flag_labels(flagged_frame(), age_range=(0, 80), reference_mae=5.0, age_k=4)
    f = f.set_index("image_id")
    assert f["age_threshold"].iloc[0] == 20
    assert list(f.index[f["flag_gender"]]) == ["gender_wrong"]  # not unsure (0.80), not child (5 y)
    assert list(f.index[f["flag_age"]]) == ["age_wrong"]  # old: label 100 clipped to 80, off by 2
    assert f.loc["age_wrong", "age_error"] == 40
    # a number or 'dataset' replaces the reference MAE
    assert (
        flag_labels(flagged_frame(), reference_mae=5.0, age_k=2, age_mae=30)["flag_age"].sum() == 0
    )
    dataset_mae = (2 + 1 + 0 + 1 + 40 + 2) / 6
    g = flag_labels(
        flagged_frame(), age_range=(0, 80), reference_mae=5.0, age_k=1, age_mae="dataset"
    )
    assert g["age_threshold"].iloc[0] == pytest.approx(dataset_mae)


def test_review_round_trip_through_overrides(tmp_path):
    flags = flag_labels(flagged_frame(), age_range=(0, 80), reference_mae=5.0, age_k=4)
    sheet = review_sheet(flags)
    assert list(zip(sheet["image_id"], sheet["field"], strict=True)) == [
        ("gender_wrong", "gender"),
        ("age_wrong", "age"),
    ]
    assert (sheet["verdict"] == "").all()
    sheet.loc[sheet["field"] == "gender", ["verdict", "value"]] = ["relabel", "M"]
    sheet.loc[sheet["field"] == "age", "verdict"] = "keep"
    lines = verdicts_to_overrides(sheet)
    path = tmp_path / "overrides.tsv"
    assert append_overrides(lines, path) == 2
    assert append_overrides(lines, path) == 0  # no duplicates on a second apply
    ov = read_overrides(path)  # the clean stage's own reader accepts the file
    assert ov[["image_id", "action", "field", "value"]].values.tolist() == [
        ["gender_wrong", "relabel", "gender", "M"],
        ["age_wrong", "relabel", "age", "20"],
    ]
    # applied, the relabel silences the gender flag; the kept age shows as decided
    manifest = flagged_frame()[["image_id", "person", "age", "gender"]]
    relabelled = apply_overrides(manifest, ov)
    assert relabelled.set_index("image_id").loc["gender_wrong", "gender"] == "M"
    again = flagged_frame().assign(gender=relabelled["gender"].values)
    sheet2 = review_sheet(
        flag_labels(again, age_range=(0, 80), reference_mae=5.0, age_k=4), overrides=ov
    )
    assert sheet2["image_id"].tolist() == ["age_wrong"]
    assert sheet2["decided"].tolist() == ["relabel age=20"]
    # drop removes the image from what the attribute branch evaluates
    dropped = apply_overrides(
        manifest,
        pd.DataFrame([{"image_id": "ok", "action": "drop", "field": "", "value": "", "note": ""}]),
    )
    assert "ok" not in set(dropped["image_id"])


def test_bad_verdicts_are_refused():
    sheet = review_sheet(flag_labels(flagged_frame(), reference_mae=5.0))
    sheet.loc[0, "verdict"] = "maybe"
    with pytest.raises(ValueError, match="verdict"):
        verdicts_to_overrides(sheet)
    sheet.loc[0, "verdict"] = "relabel"
    with pytest.raises(ValueError, match="needs a value"):
        verdicts_to_overrides(sheet)


# --- estimators: registry and missing weights ---------------------------------


def test_registry_is_lazy():
    assert set(ESTIMATORS) == {"agegender", "insightface", "deepface"}
    assert get_estimator("insightface").env == "insightface"
    assert get_estimator("deepface").env == "deepface"
    assert "insightface" not in sys.modules and "deepface" not in sys.modules
    with pytest.raises(ValueError, match="unknown attribute estimator"):
        get_estimator("nope")


def test_missing_weights_name_file_folder_and_source(tmp_path):
    with pytest.raises(MissingWeightsError) as err:
        get_estimator("insightface").check_weights({}, tmp_path)
    msg = str(err.value)
    assert "genderage.onnx" in msg and "det_10g.onnx" in msg
    assert str(tmp_path / "insightface" / "models" / "buffalo_l") in msg and "buffalo_l.zip" in msg
    with pytest.raises(MissingWeightsError) as err:
        get_estimator("deepface").check_weights({}, tmp_path)
    msg = str(err.value)
    assert "age_model_weights.h5" in msg and "gender_model_weights.h5" in msg
    assert (
        str(tmp_path / "deepface" / ".deepface" / "weights") in msg
        and "deepface_models/releases" in msg
    )
    get_estimator("agegender").check_weights({}, tmp_path)  # ships in the package


# --- the default estimator on real faces --------------------------------------


@pytest.fixture(scope="module")
def utk_predictions():
    from faceage.datasets import build_manifest

    manifest, _ = build_manifest("utkface", need(UTK))
    table, timing = predict_frame("agegender", {}, "resources/weights", manifest)
    return table, timing


@pytest.mark.shared
def test_agegender_on_utkface(utk_predictions):
    table, timing = utk_predictions
    assert len(table) > 1000
    ok = table[table["age_pred"].notna()]
    assert len(ok) / len(table) > 0.95  # dlib's HOG finds almost every UTKFace chip
    s = summary(table, timing, "agegender")
    assert s["gender_accuracy"] > 0.8  # about 0.87; chance is 0.5
    ages = ok["age"].astype(float)
    baseline = (ages - ages.mean()).abs().mean()  # predict-the-mean: about 25 years
    assert s["mae"] < 0.5 * baseline
    assert set(ok["gender_pred"]) == {"M", "F"}
    assert ok["gender_conf"].between(0.5, 1).all()
    assert timing["images_per_second"] > 5


@pytest.mark.shared
def test_planted_wrong_labels_are_flagged(tmp_path, utk_predictions):
    table, _ = utk_predictions
    from faceage.datasets import build_manifest

    manifest, _ = build_manifest("utkface", need(UTK))
    good = table[
        (table["age"].between(25, 45))
        & (table["gender_pred"] == table["gender"])
        & (table["gender_conf"] >= 0.99)
        & ((table["age_pred"] - table["age"]).abs() <= 3)
    ]
    assert len(good) >= 8
    subset = manifest[manifest["image_id"].isin(good["image_id"].head(8))].reset_index(drop=True)
    gender_id, age_id, clean_ids = (
        subset["image_id"][0],
        subset["image_id"][1],
        list(subset["image_id"][2:]),
    )
    planted = subset.copy()
    planted.loc[0, "gender"] = "F" if planted.loc[0, "gender"] == "M" else "M"
    planted.loc[1, "age"] = planted.loc[1, "age"] + 45
    write_manifest(planted, tmp_path / "manifest.tsv")
    out = tmp_path / "agegender"
    run_predict(
        "agegender",
        {},
        tmp_path / "w",
        tmp_path / "manifest.tsv",
        None,
        out / "predictions.tsv",
        out / "timing.json",
    )
    counts = run_flags(
        out / "predictions.tsv",
        tmp_path / "manifest.tsv",
        None,
        "agegender",
        out / "flags.tsv",
        out / "review.tsv",
    )
    review = read_table(out / "review.tsv")
    assert set(zip(review["image_id"], review["field"], strict=True)) == {
        (gender_id, "gender"),
        (age_id, "age"),
    }
    assert counts == {
        "images": 8,
        "flag_gender": 1,
        "flag_age": 1,
        "age_threshold": pytest.approx(4 * 6.8),
    }
    flags = read_table(out / "flags.tsv").set_index("image_id")
    assert (flags.loc[clean_ids, ["flag_gender", "flag_age"]] == "False").all().all()
    assert len(read_table(tmp_path / "manifest.tsv")) == 8  # flags never delete anything
    assert json.loads((out / "timing.json").read_text())["predicted"] == 8


# --- insightface's genderage in its own venv ----------------------------------


@pytest.mark.shared
def test_insightface_genderage_in_its_venv(tmp_path):
    py = ready_python("insightface")
    from faceage.datasets import build_manifest

    need(SCRFD)
    pack = tmp_path / "weights" / "insightface" / "models" / "testpack"
    pack.mkdir(parents=True)
    (pack / "det_500m.onnx").symlink_to(SCRFD)
    subprocess.run(
        [
            str(py),
            str(ROOT / "tests" / "helpers" / "write_genderage_onnx.py"),
            str(pack / "genderage.onnx"),
        ],
        check=True,
    )
    manifest, _ = build_manifest("utkface", need(UTK))
    write_manifest(manifest.iloc[::100].reset_index(drop=True), tmp_path / "manifest.tsv")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    cmd = predict_command(
        py,
        "insightface",
        {"pack": "testpack"},
        tmp_path / "weights",
        tmp_path / "manifest.tsv",
        out / "p.tsv",
        out / "t.json",
    )
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    pred = read_predictions(out / "p.tsv")
    ok = pred[pred["status"] == "ok"]
    assert len(ok) >= 0.8 * len(pred)  # SCRFD-500M finds the UTKFace faces
    assert set(ok["gender_pred"]) <= {"M", "F"}
    assert ok["age_pred"].between(0, 100).all()  # sigmoid output x 100
    assert ok["gender_conf"].between(0.5, 1).all()
    timing = json.loads((out / "t.json").read_text())
    assert timing["provenance"]["files"] == ["det_500m.onnx", "genderage.onnx"]
    # and the missing-weights error from inside the env, before any image is read
    cmd = predict_command(
        py,
        "insightface",
        {},
        tmp_path / "weights",
        tmp_path / "manifest.tsv",
        out / "p.tsv",
        out / "t.json",
    )
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert res.returncode == 1 and "genderage.onnx" in res.stderr and "buffalo_l" in res.stderr


@pytest.mark.e2e
def test_deepface_missing_weights_in_its_venv(tmp_path):
    py = ready_python("deepface")
    manifest = pd.DataFrame(
        [
            {
                "image_id": "x.jpg",
                "path": str(tmp_path / "x.jpg"),
                "person": "p",
                "age": 30,
                "gender": "M",
                "source": "x.jpg",
                "shard": 0,
            }
        ]
    )
    write_manifest(manifest, tmp_path / "manifest.tsv")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    res = subprocess.run(
        predict_command(
            py,
            "deepface",
            {},
            tmp_path / "w",
            tmp_path / "manifest.tsv",
            tmp_path / "p.tsv",
            tmp_path / "t.json",
        ),
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 1
    assert (
        "age_model_weights.h5" in res.stderr
        and str(tmp_path / "w" / "deepface" / ".deepface" / "weights") in res.stderr
    )


# --- the workflow ---------------------------------------------------------------


@pytest.mark.workflow
@pytest.mark.slow
@pytest.mark.shared
def test_workflow_attribute_branch_and_report(tmp_path):
    """The attribute rules on a 60-image UTKFace folder, then --report."""
    need(UTK)
    data = tmp_path / "utk"
    data.mkdir()
    for f in sorted(UTK.iterdir())[::17]:
        (data / f.name).symlink_to(f)
    work = tmp_path / "wf"
    shutil.copytree(
        ROOT,
        work,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".venvs",
            "results",
            "logs",
            "benchmarks",
            ".snakemake",
            ".git",
            "resources",
            "__pycache__",
        ),
    )
    (work / "config" / "test_attributes.yaml").write_text(
        f"dataset: utk\ndataset_format: utkface\ndataset_path: {data}\nshards: 1\n"
        "models: [eigenfaces]\n"
        "attributes:\n  enabled: true\n  balance: {age_max: 80}\n"
    )
    snakemake = ROOT / ".venv" / "bin" / "snakemake"
    base = [str(snakemake), "-c1"]
    cfg = ["--configfile", "config/test_attributes.yaml"]
    target = "results/utk/plots/attributes_speed_vs_mae.png"
    targets = [
        target,
        "results/utk/attributes/agegender/review.tsv",
        "results/utk/plots/attributes_agegender_joint.png",
    ]
    res = subprocess.run(base + targets + cfg, cwd=work, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    s = read_table(work / "results/utk/attributes/summary.tsv")
    assert s["estimator"].tolist() == ["agegender"]
    assert float(s["gender_accuracy"].iloc[0]) > 0.7 and float(s["mae"].iloc[0]) < 15
    age = read_table(work / "results/utk/attributes/agegender/age_table.tsv")
    assert age["group"].tolist()[0] == "all" and "80+" in age["group"].tolist()
    assert (work / "benchmarks/attributes_predict/utk_agegender.tsv").is_file()
    res = subprocess.run(
        base + targets + ["--report", "report.zip"] + cfg, cwd=work, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr[-3000:]
    import zipfile

    names = zipfile.ZipFile(work / "report.zip").namelist()
    for part in (
        "attributes_speed_vs_mae.png",
        "attributes_agegender_joint.png",
        "age_table.tsv",
        "review.tsv",
    ):
        assert any(part in n for n in names), part


@pytest.mark.slow
@pytest.mark.shared
def test_fgnet_preset_runs_the_attribute_branch(fgnet_run):
    """config/fgnet.yaml switches the branch on: FG-NET's ages through agegender, in rule all."""
    res = fgnet_run / "results" / "fgnet"
    s = read_table(res / "attributes" / "summary.tsv")
    assert s["estimator"].tolist() == ["agegender"]
    assert int(s["predicted"].iloc[0]) > 900  # of 1002 scans
    assert float(s["mae"].iloc[0]) < 6  # about 3.6 years (FG-NET is likely in its training data)
    assert int(s["gender_n"].iloc[0]) == 0  # FG-NET has no gender labels
    assert (res / "attributes" / "agegender" / "review.tsv").is_file()
    assert (res / "plots" / "attributes_speed_vs_mae.png").stat().st_size > 1000


def test_summary_intervals_resample_persons():
    """MAE and gender accuracy come with 95 % person-level bootstrap intervals: they contain the
    estimate, and persons whose images agree with each other (clusters) widen them against the
    same images each its own person."""
    rng = np.random.default_rng(1)
    n_persons, per = 40, 10
    person_bias = np.repeat(rng.normal(0, 6, n_persons), per)
    pred = pd.DataFrame(
        {
            "image_id": [f"i{k}" for k in range(n_persons * per)],
            "person": np.repeat([f"p{k}" for k in range(n_persons)], per),
            "age": 30.0,
            "gender": "F",
        }
    )
    pred["age_pred"] = 30.0 + person_bias + rng.normal(0, 1, len(pred))
    pred["gender_pred"] = np.where(np.repeat(rng.random(n_persons) < 0.8, per), "F", "M")
    row = summary(pred, None, "x")
    assert row["mae_lo"] < row["mae"] < row["mae_hi"]
    assert row["gender_accuracy_lo"] < row["gender_accuracy"] < row["gender_accuracy_hi"]
    alone = summary(pred.assign(person=""), None, "x")  # each image its own person
    assert alone["mae"] == row["mae"]
    assert row["mae_hi"] - row["mae_lo"] > 2 * (alone["mae_hi"] - alone["mae_lo"])
    one = summary(pred.assign(person="p"), None, "x")
    assert np.isnan(one["mae_lo"]) and np.isnan(one["gender_accuracy_hi"])
