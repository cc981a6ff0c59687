"""The paired comparison's four rules as steps: each writes its tables from the models' files
(lists in the order of ``settings.models``) and equals the logic it calls."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_paired import scores_tables

from faceage import contracts as c
from faceage.analysis import paired as P
from faceage.steps import run

GAPS = [0, 10, 20]
SETTINGS = {
    "gap_bins": GAPS,
    "fmr_levels": [0.1, 0.01],
    "min_year_pairs": 5,
    "impostors": "same_gap_bin",
    "bootstrap_iterations": 30,
    "seed": 2,
    "age_bins": [0, 20, 40],
    "paired": {"min_gender_persons": 3},
}


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t")


def _files(tmp_path, models=("m1", "m0")):
    """Score and pool files of two models (given in an order unlike their names), the
    common_pairs step's outputs, a manifest and embeddings."""
    tables = scores_tables(n_persons=12, per=5)
    files = {"scores": [], "operating": [], "embeddings": []}
    for m in models:
        t = tables[m].assign(range_a="0-29", range_b="0-29")
        files["scores"].append(str(tmp_path / f"{m}.parquet"))
        files["operating"].append(str(tmp_path / f"{m}.pool.parquet"))
        c.write_table(t, files["scores"][-1])
        c.write_table(t[t["genuine"] == 0], files["operating"][-1])
    common = {k: str(tmp_path / f"{k}.tsv") for k in ("table", "ids", "operating_ids")}
    run(
        "common_pairs",
        input={"scores": files["scores"], "operating": files["operating"]},
        output=common,
        settings={"models": list(models)},
    )
    return tables, files, common["table"]


def test_paired_differences_and_fnmr_steps_equal_the_logic(tmp_path):
    models = ["m1", "m0"]
    tables, files, common = _files(tmp_path, models)
    ordered = {m: tables[m] for m in models}
    settings = SETTINGS | {"models": models}
    inputs = {"scores": files["scores"], "operating": files["operating"], "common": common}
    out = {k: str(tmp_path / f"{k}.tsv") for k in ("per_model", "differences")}
    run(
        "paired_differences",
        input=inputs,
        output=out | {"forest": str(tmp_path / "forest.png")},
        settings=settings,
    )
    pool = P.common_pairs({m: t[t["genuine"] == 0] for m, t in ordered.items()})
    want = P.paired_comparison(
        P.common_pairs(ordered), GAPS, (0.1, 0.01), n_bootstrap=30, seed=2, pool=pool
    )
    got = pd.read_csv(out["differences"], sep="\t")
    assert list(got["model_a"].unique()) == ["m1"]  # the models' order, not their names'
    assert np.allclose(got["estimate"], want.differences["estimate"], rtol=1e-5, equal_nan=True)
    assert len(_read(out["per_model"])) == len(want.per_model)

    fnmr = {k: str(tmp_path / f"{k}.tsv") for k in ("fnmr", "fnmr_by_year")}
    plots = {k: str(tmp_path / f"{k}.png") for k in ("fnmr_plot", "fnmr_year_plot")}
    run("paired_fnmr", input=inputs, output=fnmr | plots, settings=settings)
    want = P.deployed_fnmr(ordered, GAPS, (0.1, 0.01), n_bootstrap=30, seed=2, impostors=pool)
    got = _read(fnmr["fnmr"])
    assert list(got["model"].unique()) == models
    assert np.allclose(got["fnmr"], want["fnmr"], equal_nan=True)


def test_failure_to_enrol_and_gender_steps(tmp_path):
    models = ["m0", "m1"]
    tables, files, common = _files(tmp_path, models)
    t = tables["m0"]
    images = pd.concat(
        [
            t[["image_a", "person_a", "age_a"]].set_axis(["image_id", "person", "age"], axis=1),
            t[["image_b", "person_b", "age_b"]].set_axis(["image_id", "person", "age"], axis=1),
        ]
    ).drop_duplicates("image_id")
    images["gender"] = np.where(images["person"].str[-1].astype(int) % 2, "F", "M")
    manifest = str(tmp_path / "manifest.tsv")
    images.to_csv(manifest, sep="\t", index=False)
    ids = images["image_id"].to_numpy()
    emb = []
    for k, m in enumerate(models):
        emb.append(str(tmp_path / f"{m}.npz"))
        status = np.array(["ok"] * len(ids), dtype=object)
        status[: 3 * k] = "no_face"  # m1 enrols three images fewer
        n = len(ids)
        c.write_embeddings(
            emb[-1],
            ids,
            np.ones((n, 4)),
            list(status),
            np.full(n, -1),
            np.full((n, 4), np.nan),
            np.full(n, np.nan),
        )
    settings = SETTINGS | {"models": models}
    fte = {"table": str(tmp_path / "fte.tsv"), "plot": str(tmp_path / "fte.png")}
    run(
        "paired_failure_to_enrol",
        input={"embeddings": emb, "manifest": manifest},
        output=fte,
        settings=settings,
    )
    got = _read(fte["table"]).set_index(["model", "age_range"])
    assert got.loc[("m0", "all"), "n_not_enrolled"] == 0
    assert got.loc[("m1", "all"), "n_not_enrolled"] == 3
    gender = {"table": str(tmp_path / "by_gender.tsv"), "groups": str(tmp_path / "groups.tsv")}
    run(
        "paired_by_gender",
        input={"scores": files["scores"], "manifest": manifest, "common": common},
        output=gender,
        settings=settings,
    )
    table = _read(gender["table"])
    assert set(table["gender"]) == {"F", "M"} and set(table["metric"]) == {"auc"}
    assert set(_read(gender["groups"])["used"]) == {True}
