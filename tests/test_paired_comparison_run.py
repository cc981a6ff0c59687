"""Issue 13 on real data: FG-NET with dlib, the insightface pack built from ../shared's
SCRFD-500M + MobileFaceNet (in its venv) and the eigenfaces baseline, in one run; the paired
comparison tells the baseline apart from both face models at small age gaps."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import FGNET, ROOT, SNAKEMAKE, need_shared

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from model_env import SHARED_MODELS, env_python  # noqa: E402

MODELS = ["dlib", "insightface", "eigenfaces"]


@pytest.mark.slow
@pytest.mark.shared
def test_fgnet_three_models_paired(tmp_path):
    need_shared(FGNET)
    py_if = env_python("insightface")
    weights = tmp_path / "weights"
    pack = weights / "insightface" / "models" / "testpack"
    pack.mkdir(parents=True)
    for name in ("scrfd_500m_bnkps.onnx", "mobilefacenet.onnx"):
        (pack / name).symlink_to(SHARED_MODELS / name)
    config = {
        "dataset": "fgnet",
        "dataset_format": "fgnet",
        "dataset_path": str(FGNET),
        "shards": 2,
        "models": MODELS,
        "model_settings": {"insightface": {"pack": "testpack"}},
        "python_envs": {"insightface": str(py_if)},
        "weights_dir": str(weights),
        "attributes": {"enabled": False},
        # 2 impostors per genuine pair: ~11k impostor pairs, enough for FMR 1e-3 (>= 10k)
        "comparisons": {"impostor_ratio": 2.0},
        "verification": {"impostors": "all", "bootstrap_iterations": 500},
    }
    cfg = tmp_path / "config.yaml"
    cfg.write_text(json.dumps(config))
    work = tmp_path / "run"
    work.mkdir()
    proc = subprocess.run(
        SNAKEMAKE
        + ["-s", str(ROOT / "Snakefile"), "-d", str(work), "-c2"]
        + ["results/fgnet/verification/paired/forest_auc.png", "--configfile", str(cfg)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    out = work / "results" / "fgnet" / "verification" / "paired"
    read = lambda name: pd.read_csv(out / name, sep="\t", keep_default_na=False)  # noqa: E731
    common = read("common_pairs.tsv").set_index("model")
    assert set(common.index) == set(MODELS)
    assert (common["n_common"] == common["n_common"].iloc[0]).all()
    assert (
        common["n_unscored"] + common["n_dropped_by_others"] + common["n_common"]
        == common["n_pairs"]
    ).all()
    diff = read("differences.tsv")
    small = diff[(diff["metric"] == "auc") & (diff["label"] == "0-4")]
    for face_model in ("dlib", "insightface"):
        row = small[(small["model_a"].isin([face_model, "eigenfaces"]))]
        row = row[row["model_b"].isin([face_model, "eigenfaces"])].iloc[0]
        sign = 1 if row["model_a"] == "eigenfaces" else -1
        # eigenfaces' AUC at gaps under 5 years is significantly below the face model's
        assert sign * float(row["hi"]) < 0 or sign * float(row["lo"]) > 0
        assert sign * float(row["estimate"]) < 0, row.to_dict()
        assert float(row["p_value"]) < 0.05
    fnmr = read("fnmr.tsv")
    at = fnmr[(fnmr["fmr"].astype(float) == 1e-3) & (fnmr["gap_bin"] == "all")]
    assert len(at) == 3 and (at["fnmr"] != "").all()  # 1e-3 rests on >= 10k impostor pairs
    assert (fnmr[fnmr["fmr"].astype(float) == 1e-5]["note"].str.contains("not estimable")).all()
    fte = read("failure_to_enrol.tsv")
    assert set(fte["model"]) == set(MODELS)
    kids = fte[(fte["age_range"] == "0-10") & (fte["model"] == "insightface")].iloc[0]
    assert int(kids["n_images"]) > 100
    groups = read("gender_groups.tsv")
    assert "not split" in groups["note"].iloc[0]  # FG-NET has no gender labels
    # the table recorded in docs/verification.md
    print(small[["model_a", "model_b", "estimate", "lo", "hi", "p_value"]].to_string())
    print(at[["model", "threshold", "fnmr", "fnmr_lo", "fnmr_hi"]].to_string())
    per = read("per_model.tsv")
    print(
        per[per["metric"].isin(["auc", "auc_drop"])][
            ["model", "label", "metric", "estimate", "lo", "hi"]
        ].to_string()
    )
    print(fte[fte["model"] == "insightface"].to_string())
    print(common.to_string())
    (tmp_path.parent / "paired_tables.txt").write_text(
        "\n\n".join(
            read(n).to_csv(sep="\t", index=False)
            for n in (
                "differences.tsv",
                "fnmr.tsv",
                "per_model.tsv",
                "failure_to_enrol.tsv",
                "common_pairs.tsv",
            )
        )
    )
