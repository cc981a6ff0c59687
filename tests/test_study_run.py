"""Issue 24 on real data: one run of a four-dataset study (conftest.study_run) - FG-NET (the
preset with conftest.FGNET_MODELS: dlib, insightface, insightface-paddle, deepface, eigenfaces), the
UTKFace subset (the age and gender branch only), a CSV protocol of FG-NET pairs (dlib and
insightface) and the demo. Every figure of results/study/ equals the figure in that dataset's own
tables, and a dataset of the study equals a run of that dataset alone with the same settings
(the demo against demo_run, the bundled demo run alone)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import STUDY_MODELS, study_models

from faceage.analysis.comparison import read_result
from faceage.contracts import read_embeddings

MODELS = STUDY_MODELS
FMR = 0.001  # study.fmr's default


def _same(mine, theirs, what):
    a = pd.to_numeric(pd.Series(list(mine)), errors="coerce")
    b = pd.to_numeric(pd.Series(list(theirs)), errors="coerce")
    assert ((a.isna() & b.isna()) | (a == b)).all(), f"{what}: {list(a)} != {list(b)}"


@pytest.mark.slow
@pytest.mark.shared
def test_every_study_figure_equals_its_datasets_own_table(study_run):
    res = study_run / "results"
    summary = read_result(res / "study" / "summary.tsv")
    # the datasets with verification, in the configuration's order
    assert list(dict.fromkeys(summary["dataset"])) == ["fgnet", "demo"]
    comp = read_result(res / "fgnet" / "verification" / "comparison.tsv").set_index("model")
    fgnet_models = study_models(study_run)  # conftest.FGNET_MODELS whose venvs are built
    assert list(comp.index) == fgnet_models and set(comp["pairs"]) == {"common"}
    for model in fgnet_models:
        mine = summary[(summary["model"] == model) & (summary["dataset"] == "fgnet")]
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
        assert top["n_genuine"] > 1000 and (top["auc"] > 0.8 or model == "eigenfaces")
    bench = read_result(res / "study" / "benchmarks.tsv")
    own = read_result(res / "fgnet_pairs" / "verification" / "benchmarks.tsv")
    assert set(bench["dataset"]) == {"fgnet_pairs"} and list(own["model"]) == MODELS
    pd.testing.assert_frame_equal(bench.drop(columns="dataset"), own, check_dtype=False)
    assert (own["accuracy"] > 0.75).all()  # 300 cross-age pairs, 10 folds
    attr = read_result(res / "study" / "attributes.tsv").set_index("dataset")
    assert list(attr.index) == ["fgnet", "utkface"]  # the FG-NET preset runs the branch too
    for ds in attr.index:
        src = read_result(res / ds / "attributes" / "agegender" / "summary.tsv").iloc[0]
        for col in ("mae", "gender_accuracy", "age_n", "gender_n"):
            _same([attr.loc[ds, col]], [src[col]], f"{ds} {col}")
    assert attr.loc["utkface", "age_n"] > 900 and attr.loc["utkface", "gender_accuracy"] > 0.7
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
    models = sorted({*MODELS, *fgnet_models, "eigenfaces"})  # eigenfaces: the demo's too
    assert sorted(p.name for p in (res / "models").iterdir()) == models
    checks = sorted(p.parent.parent.name for p in (res / "models").glob("*/*/weights.json"))
    assert checks == models  # one check per model: its datasets share the model's settings
    assert len(list((study_run / "logs" / "check_weights").iterdir())) == len(models)
    # the report gathers every dataset and the study (its files exist where the report looks)
    assert not (res / "utkface" / "verification").exists()  # no identities: no verification


@pytest.mark.slow
@pytest.mark.shared
def test_a_dataset_of_the_study_equals_its_run_alone(study_run, demo_run):
    """The demo inside the study (config/demo.yaml as its preset) and the demo run alone:
    the same pairs, vectors and tables, file for file."""
    mine, alone = study_run / "results" / "demo", demo_run / "results" / "demo"
    pd.testing.assert_frame_equal(
        pd.read_parquet(mine / "pairs.parquet"), pd.read_parquet(alone / "pairs.parquet")
    )
    a = read_embeddings(mine / "embeddings" / "eigenfaces.npz")
    b = read_embeddings(alone / "embeddings" / "eigenfaces.npz")
    assert list(a["image_id"]) == list(b["image_id"])
    np.testing.assert_array_equal(a["vectors"], b["vectors"])
    # every table but the wall times; paths inside them relative to their own workdir
    tables = sorted(p.relative_to(alone) for p in alone.rglob("*.tsv"))
    tables = [t for t in tables if t.name != "timing.tsv"]
    assert len(tables) >= 15
    for rel in tables:
        ours, theirs = read_result(mine / rel), read_result(alone / rel)
        for t, work in ((ours, study_run), (theirs, demo_run)):
            for col in t.select_dtypes(include=["object", "str"]).columns:
                t[col] = t[col].str.replace(str(work), "<work>", regex=False)
        pd.testing.assert_frame_equal(ours, theirs, obj=str(rel))
    assert (mine / "verification" / "comparison.tsv").is_file()
