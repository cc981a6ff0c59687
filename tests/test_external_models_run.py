"""External models through the workflow (docs/external.md): a dry run that refuses a bad
entry naming its key (fast), and the demo with vectors and scores from files another tool made
(scripts/external_demo_files.py), run to the end (slow)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import ROOT, run_workflow


@pytest.mark.workflow
def test_dry_run_names_the_key_of_a_missing_file(tmp_path):
    config = tmp_path / "external.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "models": ["eigenfaces", "theirs"],
                "external_models": {"theirs": {"scores": "resources/gone.csv"}},
            }
        )
    )
    proc = run_workflow(
        tmp_path, "-n", "--configfile", str(ROOT / "config" / "demo.yaml"), str(config),
        check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "external_models.theirs.scores: 'resources/gone.csv' does not exist" in out


@pytest.mark.workflow
def test_a_study_dataset_takes_an_external_model_into_every_analysis(tmp_path):
    """datasets.<name>.external_models: the vectors join that dataset (and no other) as a
    model, through the paired comparison and into the study's tables (a dry run)."""
    import numpy as np

    np.savez(tmp_path / "v.npz", ids=np.array(["a.png"]), vectors=np.zeros((1, 8), np.float32))
    demo = {"configfile": str(ROOT / "config" / "demo.yaml")}
    study = {
        "datasets": {
            "demo": {
                **demo,
                "models": ["eigenfaces", "theirs"],
                "external_models": {"theirs": {"embeddings": str(tmp_path / "v.npz")}},
            },
            "other": {**demo, "dataset_path": "resources/other"},
        }
    }
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump(study))
    proc = run_workflow(tmp_path, "-n", configfile=config)
    out = proc.stdout
    assert "logs/external_embeddings/demo_theirs.log" in out
    assert "external_embeddings/other" not in out and "results/other/scores/theirs" not in out
    for path in (
        "results/demo/verification/theirs/common/metrics.tsv",  # into the study's summary
        "results/demo/verification/paired/differences.tsv",  # the paired comparison
        "results/demo/verification/theirs/ageing.tsv",  # the age analysis
        "results/study/summary.tsv",
    ):
        assert path in out, path


@pytest.mark.workflow
@pytest.mark.slow
def test_demo_with_vectors_and_scores_from_files(demo_run, tmp_path):
    """The worked example of docs/external.md, in a copy of the finished demo (its first step,
    `make demo`): eigenfaces beside a model of vectors (Parquet, keyed by path, four images left
    out and one extra), the same histogram scores as a bob.bio CSV and as pyeer files. Every
    model gets metrics and a row in comparison.tsv; the two score files give the same figures.
    About 40 s on 2 cores."""
    demo = ROOT / "config" / "demo.yaml"
    external = ROOT / "config" / "external_demo.yaml"
    shutil.copytree(demo_run, tmp_path, symlinks=True, dirs_exist_ok=True)
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "external_demo_files.py"), "resources/demo"]
        + ["--out", "resources/external"],
        cwd=tmp_path,
        check=True,
    )
    run_workflow(tmp_path, "--configfile", str(demo), str(external))
    res = tmp_path / "results" / "demo"

    report = pd.read_csv(res / "external" / "projection.tsv", sep="\t", keep_default_na=False)
    counts = report.set_index("reason")["n"].to_dict()
    assert counts == {"matched": 156, "not_in_dataset": 1, "not_in_file": 4}
    ids = pd.read_csv(res / "external" / "projection_ids.tsv", sep="\t")
    assert list(ids["reason"]).count("not_in_file") == 4
    assert "resources/demo/person99/30.png" in set(ids["id"])
    for scores in ("histogram", "histogram_pyeer"):
        r = pd.read_csv(res / "external" / f"{scores}.tsv", sep="\t", keep_default_na=False)
        n = r.set_index(["item", "reason"])["n"]
        assert n[("pair (pairs)", "not_in_file")] == 0
        assert n[("pair (operating)", "not_in_file")] == 0
        assert n[("pair (file)", "label_differs")] == 0

    table = pd.read_csv(res / "verification" / "comparison.tsv", sep="\t")
    assert list(table["model"]) == ["eigenfaces", "projection", "histogram", "histogram_pyeer"]
    by = table.set_index("model")
    assert by.loc["histogram", "auc"] == by.loc["histogram_pyeer", "auc"]
    assert by.loc["projection", "n_unscored"] > 0  # the pairs of the four images left out
    assert pd.isna(by.loc["histogram", "probe_mae"])  # the age probe needs vectors
    assert by.loc["projection", "probe_mae"] > 0
    for model in ("projection", "histogram"):
        assert (res / "verification" / model / "metrics.tsv").is_file()
        assert (res / "verification" / model / "fnmr.tsv").is_file()
    assert (res / "plots" / "projections_projection.png").is_file()
    assert not (res / "plots" / "projections_histogram.png").exists()  # no vectors to map
    assert (res / "verification" / "paired" / "differences.tsv").is_file()
    shutil.rmtree(tmp_path / "resources" / "demo")  # no face pixels left behind
