"""A user-written rule that produces a model's embeddings file plugs into the workflow."""

import pandas as pd
import pytest
from conftest import ROOT, run_workflow

RULE = """
include: "{root}/workflow/Snakefile"


rule my_model:
    input:
        f"{{RESULTS}}/clean/manifest.tsv",
    output:
        f"{{RESULTS}}/embeddings/mymodel.npz",
    log:
        "logs/my_model.log",
    run:
        import numpy as np
        from faceage.contracts import read_table, write_embeddings

        man = read_table(input[0])
        n = len(man)
        # a "model" that knows the person: one random direction per person plus noise
        rng = np.random.default_rng(0)
        base = {{p: rng.normal(size=16) for p in sorted(set(man["person"]))}}
        vec = np.stack([base[p] + 0.1 * rng.normal(size=16) for p in man["person"]])
        write_embeddings(output[0], man["image_id"], vec, ["ok"] * n, np.full(n, -1),
                         np.full((n, 4), np.nan), np.full(n, np.nan))
"""


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
