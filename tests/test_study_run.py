"""Issue 24 on real data: one run of a three-dataset study - FG-NET (the preset, with dlib and
the insightface pack built from ../shared's SCRFD-500M + MobileFaceNet), the UTKFace subset (the
age and gender branch only) and a CSV protocol of FG-NET pairs (dlib and insightface). Every
figure of results/study/ equals the figure in that dataset's own tables, and a dataset of the
study equals a run of that dataset alone with the same settings (the FG-NET preset run)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FGNET, ROOT, UTKFACE, need_shared, run_workflow

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
sys.path.insert(0, str(ROOT / "scripts"))
from fgnet_protocol import fgnet_files, fgnet_protocol  # noqa: E402
from model_env import env_python, link_insightface_testpack  # noqa: E402

from faceage.analysis.comparison import read_result  # noqa: E402
from faceage.contracts import read_embeddings  # noqa: E402

MODELS = ["dlib", "insightface"]
FMR = 0.001  # study.fmr's default


@pytest.fixture(scope="module")
def study_run(tmp_path_factory) -> Path:
    need_shared(FGNET)
    need_shared(UTKFACE)
    work = tmp_path_factory.mktemp("study")
    pack = link_insightface_testpack(work / "weights")
    protocol = work / "fgnet_pairs.csv"
    fgnet_protocol(fgnet_files(FGNET), np.random.default_rng(20), 300).to_csv(
        protocol, index=False
    )
    config = {
        "models": MODELS,
        "python_envs": {"insightface": str(env_python("insightface"))},
        "weights_dir": str(work / "weights"),
        "model_settings": {"insightface": {"pack": pack}},
        "clean": {"detector": "hog"},
        "attributes": {"enabled": False},
        "datasets": {
            "fgnet": {  # the preset as fgnet_preset_run runs it, with a second model
                "configfile": str(ROOT / "config" / "fgnet.yaml"),
                "dataset_path": str(FGNET),
                "models": MODELS,
                "attributes": {"enabled": False},
            },
            "utkface": {  # no identities: ages and genders only
                "dataset_format": "utkface",
                "dataset_path": str(UTKFACE),
                "models": [],
                "clean": {"min_images_per_person": 1},
                "comparisons": {"impostors": "none"},
                "attributes": {"enabled": True, "estimators": ["agegender"]},
            },
            "fgnet_pairs": {
                "dataset_format": "protocol",
                "protocols": [{"file": str(protocol), "format": "csv", "images": str(FGNET)}],
            },
        },
    }
    cfg = work / "study.yaml"
    cfg.write_text(json.dumps(config))
    run_workflow(work, configfile=cfg, timeout=3600)
    return work


def _same(mine, theirs, what):
    a = pd.to_numeric(pd.Series(list(mine)), errors="coerce")
    b = pd.to_numeric(pd.Series(list(theirs)), errors="coerce")
    assert ((a.isna() & b.isna()) | (a == b)).all(), f"{what}: {list(a)} != {list(b)}"


@pytest.mark.slow
@pytest.mark.shared
def test_every_study_figure_equals_its_datasets_own_table(study_run):
    res = study_run / "results"
    summary = read_result(res / "study" / "summary.tsv")
    assert list(dict.fromkeys(summary["dataset"])) == ["fgnet"]  # the verification datasets
    comp = read_result(res / "fgnet" / "verification" / "comparison.tsv").set_index("model")
    assert list(comp.index) == MODELS and set(comp["pairs"]) == {"common"}
    for model in MODELS:
        mine = summary[summary["model"] == model]
        top = mine[mine["subset"] == "all"].iloc[0]
        c = comp.loc[model]
        key = f"fnmr_at_fmr_{FMR:g}"
        cols = [(x, x) for x in ("auc", "auc_lo", "auc_hi", "eer", "eer_lo", "eer_hi")]
        cols += [("acc_mean", "acc_mean"), ("acc_std", "acc_std"), ("n_genuine", "n_genuine")]
        cols += [(f"fnmr{s}", f"{key}{s}") for s in ("", "_lo", "_hi")]
        cols += [(f"slope_per_decade{s}",) * 2 for s in ("", "_lo", "_hi")]
        for m_col, c_col in cols:
            _same([top[m_col]], [c[c_col]], f"{model} {m_col}")
        gaps = mine[mine["subset"] == "gap_bin"]
        assert len(gaps) == 5  # FG-NET's gap bins: 0-4, ..., 30+
        for _, r in gaps.iterrows():
            b = r["label"]
            _same([r["auc"], r["fnmr"]], [c[f"auc_gap_{b}"], c[f"{key}_gap_{b}"]], f"{model} {b}")
        # the figures are real: the face models tell FG-NET's subjects apart
        assert top["auc"] > 0.85 and top["n_genuine"] > 1000
    bench = read_result(res / "study" / "benchmarks.tsv")
    own = read_result(res / "fgnet_pairs" / "verification" / "benchmarks.tsv")
    assert set(bench["dataset"]) == {"fgnet_pairs"} and list(own["model"]) == MODELS
    pd.testing.assert_frame_equal(bench.drop(columns="dataset"), own, check_dtype=False)
    assert (own["accuracy"] > 0.75).all()  # 300 cross-age pairs, 10 folds
    attr = read_result(res / "study" / "attributes.tsv")
    src = read_result(res / "utkface" / "attributes" / "agegender" / "summary.tsv").iloc[0]
    assert list(attr["dataset"]) == ["utkface"]
    for col in ("mae", "gender_accuracy", "age_n", "gender_n"):
        assert attr.iloc[0][col] == src[col], col
    assert src["age_n"] > 900 and src["gender_accuracy"] > 0.7
    diff = read_result(res / "study" / "differences.tsv")
    pd.testing.assert_frame_equal(
        diff.drop(columns="dataset"),
        read_result(res / "fgnet" / "verification" / "paired" / "differences.tsv"),
    )
    md = (res / "study" / "tables.md").read_text()
    assert "| fgnet | dlib |" in md and "fgnet_pairs" in md and "utkface" in md
    assert "\\toprule" in (res / "study" / "tables.tex").read_text()
    for png in ("by_gap.png", "forest.png"):
        assert (res / "study" / png).stat().st_size > 10_000
    # each model's weights were checked once, for all three datasets
    assert sorted(p.name for p in (res / "models").iterdir()) == MODELS
    checks = list((study_run / "logs" / "check_weights").iterdir())
    assert sorted(p.name for p in checks) == [f"{m}.log" for m in MODELS]
    # the report gathers every dataset and the study (its files exist where the report looks)
    assert not (res / "utkface" / "verification").exists()  # no identities: no verification


@pytest.mark.slow
@pytest.mark.shared
def test_a_dataset_of_the_study_equals_its_run_alone(study_run, fgnet_preset_run):
    mine, alone = study_run / "results" / "fgnet", fgnet_preset_run / "results" / "fgnet"
    pd.testing.assert_frame_equal(
        pd.read_parquet(mine / "pairs.parquet"), pd.read_parquet(alone / "pairs.parquet")
    )
    a, b = read_embeddings(mine / "embeddings" / "dlib.npz"), read_embeddings(
        alone / "embeddings" / "dlib.npz"
    )
    assert list(a["image_id"]) == list(b["image_id"])
    np.testing.assert_array_equal(a["vectors"], b["vectors"])
    for name in ("metrics.tsv", "ageing.tsv", "fnmr.tsv"):
        pd.testing.assert_frame_equal(
            read_result(mine / "verification" / "dlib" / name),
            read_result(alone / "verification" / "dlib" / name),
            obj=name,
        )

