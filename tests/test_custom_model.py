"""A user-written rule that produces a model's embeddings file plugs into the workflow
(conftest.paired_demo_run: the demo with eigenfaces and the rule of conftest.SECOND_MODEL, a
made-up model whose vectors a user's own rule writes, named with the workflow's RESULTS and
log_path as the README shows)."""

import pandas as pd
import pytest


@pytest.mark.slow
def test_custom_model_rule(paired_demo_run):
    res = paired_demo_run / "results" / "demo"
    scores = pd.read_parquet(res / "scores" / "mymodel.parquet")
    gen = scores[scores["genuine"] == 1]["similarity"]
    imp = scores[scores["genuine"] == 0]["similarity"]
    assert gen.min() > imp.max()  # the made-up model is perfect, and the scores show it
    within = pd.read_csv(res / "tables" / "similarity_within_range.csv")
    assert "mymodel_mean" in within.columns and "eigenfaces_mean" in within.columns
    assert (paired_demo_run / "logs" / "my_model" / "demo.log").is_file()  # log_path's name
