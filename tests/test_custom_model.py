"""A user-written rule that produces a model's embeddings file plugs into the workflow."""

import pandas as pd
import pytest
from conftest import ROOT, SECOND_MODEL, run_workflow

RULE = SECOND_MODEL  # conftest: a rule that writes the embeddings of a made-up model


@pytest.mark.slow
def test_custom_model_rule(tmp_path):
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(RULE.format(root=ROOT))
    work = tmp_path / "work"
    run_workflow(
        work,
        "-s",
        str(snakefile),
        "--config",
        "models=[eigenfaces,mymodel]",
        "custom_models=[mymodel]",
        targets=("all",),
    )
    scores = pd.read_parquet(work / "results" / "demo" / "scores" / "mymodel.parquet")
    gen = scores[scores["genuine"] == 1]["similarity"]
    imp = scores[scores["genuine"] == 0]["similarity"]
    assert gen.min() > imp.max()  # the made-up model is perfect, and the scores show it
    within = pd.read_csv(work / "results" / "demo" / "tables" / "similarity_within_range.csv")
    assert "mymodel_mean" in within.columns and "eigenfaces_mean" in within.columns
