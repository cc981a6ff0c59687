"""Ageing mixed model and age probe on synthetic data with known answers.

The real-data check reads the ageing table of the FG-NET preset run of the
workflow (session fixture ``fgnet_run`` in tests/conftest.py, dlib).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faceage.analysis.age_probe import age_probe, probe_data
from faceage.analysis.ageing import AGEING_COLUMNS, fit_ageing_model, population_line
from faceage.contracts import SCORE_COLUMNS, write_embeddings, write_table
from faceage.steps import run


def genuine_scores(slope=-0.008, n_persons=40, per_person=8, sd_slope=0.003, seed=0):
    """Genuine pairs with similarity = 0.8 + (slope + u_i) * gap + noise, plus some impostors."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_persons):
        ages = np.sort(rng.integers(0, 50, per_person))
        u0, u1 = rng.normal(0, 0.05), rng.normal(0, sd_slope)
        for i in range(per_person):
            for j in range(i + 1, per_person):
                gap = ages[j] - ages[i]
                sim = 0.8 + u0 + (slope + u1) * gap + rng.normal(0, 0.05)
                rows.append((f"p{p}", f"p{p}", 1, ages[i], ages[j], gap, sim))
    for _ in range(500):
        rows.append(("q1", "q2", 0, 10, 20, 10, rng.normal(0.2, 0.1)))
    df = pd.DataFrame(
        rows, columns=["person_a", "person_b", "genuine", "age_a", "age_b", "age_gap", "similarity"]
    )
    df.insert(0, "pair_id", np.arange(len(df)))
    df.insert(1, "image_a", "a")
    df.insert(2, "image_b", "b")
    df["range_a"], df["range_b"] = "x", "y"
    return df[SCORE_COLUMNS]


def test_mixed_model_recovers_slope():
    res = fit_ageing_model(genuine_scores(slope=-0.008))
    assert res["random_slope"] and res["converged"]
    assert res["slope_per_year_lo"] < -0.008 < res["slope_per_year_hi"]
    assert res["slope_per_year_hi"] < 0
    assert res["slope_per_decade"] == pytest.approx(10 * res["slope_per_year"])
    assert res["sd_person_slope_per_year"] == pytest.approx(0.003, abs=0.002)
    assert res["impostor_mean"] == pytest.approx(0.2, abs=0.02)
    assert res["n_persons"] == 40


def test_flat_model_interval_covers_zero():
    res = fit_ageing_model(genuine_scores(slope=0.0, sd_slope=0.0005, seed=3))
    assert res["slope_per_year_lo"] < 0 < res["slope_per_year_hi"]


def test_population_line_band():
    res = fit_ageing_model(genuine_scores())
    line = population_line(res, np.array([0.0, 10.0, 40.0]))
    assert line["mean"].iloc[0] == pytest.approx(res["intercept"])
    assert (line["lo"] < line["mean"]).all() and (line["mean"] < line["hi"]).all()
    assert line["mean"].iloc[2] == pytest.approx(res["intercept"] + 40 * res["slope_per_year"])


def test_too_few_pairs_and_intercept_only():
    tiny = genuine_scores(n_persons=1, per_person=2)
    res = fit_ageing_model(tiny)
    assert res["random_slope"] is False and "too few" in res["warnings"]
    # every person seen at a single gap only: no random slope possible
    s = genuine_scores(n_persons=30, per_person=2, seed=4)
    res = fit_ageing_model(s)
    assert res["random_slope"] is False and np.isfinite(res["slope_per_year"])


def test_ageing_step_writes_one_row(tmp_path):
    write_table(genuine_scores(), tmp_path / "m.tsv", SCORE_COLUMNS)
    run(
        "ageing_model",
        input={"scores": str(tmp_path / "m.tsv")},
        output={"table": str(tmp_path / "ageing.tsv")},
        settings={"max_pairs": 200_000, "seed": 0},
        wildcards={"model": "m"},
    )
    back = pd.read_csv(tmp_path / "ageing.tsv", sep="\t")
    assert list(back.columns) == AGEING_COLUMNS and back.loc[0, "model"] == "m"
    assert back.loc[0, "n_pairs_fitted"] == back.loc[0, "n_pairs"]  # under the cap: every pair


def test_ageing_on_a_person_sample_above_the_cap():
    from faceage.analysis.ageing import genuine_table, person_sample

    s = genuine_scores(n_persons=120, per_person=8, seed=2)
    data = genuine_table(s)
    sample = person_sample(data, 1000, seed=5)
    # whole persons: each chosen person keeps every pair
    per = data.groupby("person").size()
    kept = sample.groupby("person").size()
    assert (kept == per.loc[kept.index]).all()
    assert 1000 <= len(sample) < 1000 + per.max()
    pd.testing.assert_frame_equal(sample, person_sample(data, 1000, seed=5))
    assert person_sample(data, len(data), seed=5) is data
    full = fit_ageing_model(s)
    part = fit_ageing_model(s, max_pairs=1000, seed=5)
    assert part["n_pairs"] == full["n_pairs"] == len(data)
    assert part["n_pairs_fitted"] == len(sample) < len(data)
    assert part["n_persons_fitted"] == sample["person"].nunique()
    # the sampled fit's interval covers the full fit's slope (within its sampling error)
    assert part["slope_per_year_lo"] <= full["slope_per_year"] <= part["slope_per_year_hi"]
    assert part["slope_per_year_hi"] - part["slope_per_year_lo"] > (
        full["slope_per_year_hi"] - full["slope_per_year_lo"]
    )


# --- age probe -------------------------------------------------------------------------


def probe_set(age_signal: float, n_persons=40, per_person=8, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    ids, persons, ages, vecs = [], [], [], []
    direction = rng.normal(size=dim)
    for p in range(n_persons):
        identity = rng.normal(size=dim) * 3
        for k in range(per_person):
            age = int(rng.integers(0, 70))
            vecs.append(identity + rng.normal(size=dim) + age_signal * (age - 35) / 35 * direction)
            ids.append(f"p{p}/{k}.jpg")
            persons.append(f"p{p}")
            ages.append(age)
    manifest = pd.DataFrame({"image_id": ids, "person": persons, "age": ages})
    return {"image_id": np.array(ids), "vectors": np.array(vecs, dtype=np.float32)}, manifest


def test_age_probe_finds_age_when_present_and_not_when_absent():
    emb, man = probe_set(age_signal=3.0)
    strong = age_probe(*probe_data(emb, man))
    emb0, man0 = probe_set(age_signal=0.0)
    none = age_probe(*probe_data(emb0, man0))
    assert strong["r2"] > 0.5 and strong["mae"] < strong["mae_median_baseline"]
    assert none["r2"] < 0.1 and none["mae"] > 0.8 * none["mae_median_baseline"]
    assert strong["n_images"] == 320 and strong["n_folds"] == 5


def test_age_probe_step_skips_failed_images(tmp_path):
    emb, man = probe_set(age_signal=2.0, n_persons=12)
    vec = emb["vectors"].copy()
    vec[:3] = np.nan
    n = len(vec)
    write_embeddings(
        tmp_path / "m.npz",
        emb["image_id"],
        vec,
        ["ok"] * n,
        np.ones(n),
        np.zeros((n, 4)),
        np.ones(n),
    )
    man.loc[5, "age"] = None
    from faceage.contracts import write_table as wt

    wt(man, tmp_path / "manifest.tsv")
    res = run(
        "age_probe",
        input={"embeddings": str(tmp_path / "m.npz"), "manifest": str(tmp_path / "manifest.tsv")},
        output={"table": str(tmp_path / "probe.tsv")},
        settings={"folds": 5, "alphas": [0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]},
        wildcards={"model": "m"},
    )
    assert res["n_images"] == n - 4
    assert pd.read_csv(tmp_path / "probe.tsv", sep="\t").loc[0, "model"] == "m"


@pytest.mark.shared
@pytest.mark.slow
def test_fgnet_dlib_ageing_slope_negative(fgnet_run):
    ver = fgnet_run / "results" / "fgnet" / "verification" / "dlib"
    res = pd.read_csv(ver / "ageing.tsv", sep="\t").iloc[0]
    print(
        res[
            [
                "slope_per_year",
                "slope_per_year_lo",
                "slope_per_year_hi",
                "random_slope",
                "n_persons",
            ]
        ]
    )
    assert bool(res["random_slope"]) and res["n_persons"] > 70
    assert res["slope_per_year"] < 0
    assert res["slope_per_year_hi"] < 0  # the 95 % interval excludes 0
    probe = pd.read_csv(ver / "age_probe.tsv", sep="\t").iloc[0]
    assert probe["mae"] < probe["mae_median_baseline"]  # dlib's embedding still holds age


def test_age_probe_groups_persons():
    """Ages constant within a person and embeddings that identify the person, with no age in
    them: a probe whose folds split persons learns identity -> age and looks good; grouped folds
    do not."""
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold, cross_val_predict

    rng = np.random.default_rng(4)
    n_p, per, dim = 40, 8, 32
    ident = rng.normal(size=(n_p, dim))
    person = np.repeat(np.arange(n_p), per)
    x = ident[person] + rng.normal(0, 0.1, (n_p * per, dim))
    age = rng.uniform(5, 70, n_p)[person]
    order = rng.permutation(
        len(person)
    )  # images of a person are not contiguous (as in a real manifest)
    x, age, person = x[order], age[order], person[order]
    leaky = cross_val_predict(Ridge(alpha=1.0), x, age, cv=KFold(5))
    r2_leaky = 1 - np.sum((leaky - age) ** 2) / np.sum((age - age.mean()) ** 2)
    assert r2_leaky > 0.5  # the data would expose a probe that splits persons
    res = age_probe(x, age, person.astype(str))
    assert res["r2"] < 0.2, res
