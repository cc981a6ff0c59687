"""Verification metrics, insightface 10-fold accuracy, subject bootstrap, comparison and plots.

Fast tests run on synthetic scores; the real-data test (marked ``shared``
and ``slow``) reads the verification outputs of the FG-NET preset run of the
workflow (the session fixture ``fgnet_run`` in tests/conftest.py: the preset, matched
impostors) and skips without ../shared.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import KFold

from faceage.analysis import bootstrap as bs
from faceage.analysis import verification as v
from faceage.analysis.roc import point_metrics
from faceage.contracts import SCORE_COLUMNS, read_table, write_table
from faceage.steps import run

# --- synthetic data ------------------------------------------------------------


def synthetic_scores(n_persons=30, per_person=6, seed=0, slope=-0.01, noise=0.1, nan_every=0):
    """A scores table like the workflow's: all pairs, genuine similarity falling with the gap."""
    rng = np.random.default_rng(seed)
    imgs = []
    for p in range(n_persons):
        for k, age in enumerate(np.sort(rng.integers(0, 60, per_person))):
            imgs.append((f"p{p:03d}_{k}", f"p{p:03d}", int(age)))
    imgs = pd.DataFrame(imgs, columns=["image", "person", "age"])
    i, j = np.triu_indices(len(imgs), 1)
    a, b = imgs.iloc[i].reset_index(drop=True), imgs.iloc[j].reset_index(drop=True)
    swap = a["age"].to_numpy() > b["age"].to_numpy()
    age_a = np.where(swap, b["age"], a["age"])
    age_b = np.where(swap, a["age"], b["age"])
    gen = (a["person"].to_numpy() == b["person"].to_numpy()).astype(int)
    gap = age_b - age_a
    sim = np.where(gen == 1, 0.8 + slope * gap, 0.3) + rng.normal(0, noise, len(gen))
    edges = [0, 11, 21, 31, 41, 51, 200]
    labels = ["0-10", "11-20", "21-30", "31-40", "41-50", "51+"]
    df = pd.DataFrame(
        {
            "pair_id": np.arange(len(gen)),
            "image_a": a["image"],
            "image_b": b["image"],
            "person_a": np.where(swap, b["person"], a["person"]),
            "person_b": np.where(swap, a["person"], b["person"]),
            "genuine": gen,
            "age_a": age_a,
            "age_b": age_b,
            "age_gap": gap,
            "range_a": pd.cut(age_a, edges, right=False, labels=labels).astype(str),
            "range_b": pd.cut(age_b, edges, right=False, labels=labels).astype(str),
            "similarity": sim,
        }
    )
    if nan_every:
        df.loc[::nan_every, "similarity"] = np.nan
    return df


def brute_force_tar(g, s, far):
    """Highest TAR over every threshold t (accept s >= t) with FAR <= far."""
    best = 0.0
    for t in np.unique(s):
        if np.mean(s[g == 0] >= t) <= far:
            best = max(best, np.mean(s[g == 1] >= t))
    return best


# --- point metrics ------------------------------------------------------------------


@pytest.mark.parametrize("decimals", [6, 1])  # 1 decimal: many tied scores
def test_point_metrics_equal_sklearn(decimals):
    rng = np.random.default_rng(1)
    g = np.r_[np.ones(300, int), np.zeros(2000, int)]
    s = np.round(np.r_[rng.normal(1.5, 1, 300), rng.normal(0, 1, 2000)], decimals)
    m = point_metrics(g, s, fmr_levels=(1e-2, 1e-3))
    assert m["auc"] == pytest.approx(roc_auc_score(g, s), abs=1e-12)
    fpr, tpr, thr = roc_curve(g, s)
    # EER: the crossing of FAR and FRR lies between the ROC points that bracket it
    fnr = 1 - tpr
    i = np.argmax(fpr >= fnr)
    assert min(fpr[i - 1], fnr[i]) - 1e-12 <= m["eer"] <= max(fpr[i], fnr[i - 1]) + 1e-12
    assert m["roc_fnmr_at_fmr_0.01"] == pytest.approx(1 - brute_force_tar(g, s, 1e-2), abs=1e-12)
    # at 2000 impostors FAR 1e-3 needs 10000: not estimable
    assert np.isnan(m["roc_fnmr_at_fmr_0.001"])
    assert "roc_fnmr_at_fmr_0.001 not estimable" in m["notes"]
    assert "needs >= 10000" in m["notes"]
    # the reported threshold really gives that TAR and a FAR within the target
    t = m["roc_fnmr_at_fmr_0.01_threshold"]
    assert np.mean(s[g == 1] < t) == pytest.approx(m["roc_fnmr_at_fmr_0.01"])
    assert np.mean(s[g == 0] >= t) <= 1e-2


def test_eer_of_separable_and_symmetric_scores():
    g = np.r_[np.ones(100, int), np.zeros(100, int)]
    assert point_metrics(g, np.r_[np.linspace(1, 2, 100), np.linspace(-1, 0, 100)])["eer"] == 0.0
    # genuine N(1,1) vs impostor N(-1,1): EER = Phi(-1); large n -> close
    rng = np.random.default_rng(0)
    g = np.r_[np.ones(20000, int), np.zeros(20000, int)]
    s = np.r_[rng.normal(1, 1, 20000), rng.normal(-1, 1, 20000)]
    assert point_metrics(g, s)["eer"] == pytest.approx(norm.cdf(-1), abs=0.01)


def test_tar_estimable_exactly_at_ten_over_far():
    rng = np.random.default_rng(2)
    g = np.r_[np.ones(50, int), np.zeros(1000, int)]
    s = rng.normal(size=len(g)) + g
    m = point_metrics(g, s, fmr_levels=(1e-2, 1e-3))
    assert np.isfinite(m["roc_fnmr_at_fmr_0.01"])  # 1000 impostors = 10 / 0.01
    assert np.isnan(m["roc_fnmr_at_fmr_0.001"])


def test_gap_bins():
    assert v.gap_bin_labels([0, 5, 10, 20, 30]) == ["0-4", "5-9", "10-19", "20-29", "30+"]
    bins = v.assign_gap_bins(pd.Series([0, 4, 5, 19, 30, 77, None]), [0, 5, 10, 20, 30])
    assert [None if pd.isna(x) else x for x in bins] == [
        "0-4",
        "0-4",
        "5-9",
        "10-19",
        "30+",
        "30+",
        None,
    ]
    with pytest.raises(ValueError):
        v.gap_bin_labels([0, 10, 5])


# --- insightface 10-fold accuracy ------------------------------------------------------


def insightface_direct(sim, issame, nfolds=10):
    """insightface's calculate_roc written out directly (loops, np.less, KFold unshuffled)."""
    thresholds = np.arange(0, 4, 0.01)
    dist = 2.0 - 2.0 * sim  # squared L2 distance of unit vectors with this cosine
    acc = np.zeros(nfolds)
    for f, (train, test) in enumerate(
        KFold(n_splits=nfolds, shuffle=False).split(np.arange(len(dist)))
    ):
        acc_train = np.zeros(len(thresholds))
        for ti, t in enumerate(thresholds):
            pred = np.less(dist[train], t)
            acc_train[ti] = np.mean(pred == issame[train])
        best = np.argmax(acc_train)
        acc[f] = np.mean(np.less(dist[test], thresholds[best]) == issame[test])
    return np.mean(acc), np.std(acc), acc


@pytest.mark.parametrize("n", [6000, 1234])
def test_insightface_accuracy_equals_direct_implementation(n):
    rng = np.random.default_rng(5)
    issame = rng.random(n) < 0.5
    sim = np.clip(np.where(issame, 0.45, 0.1) + rng.normal(0, 0.18, n), -1, 1)
    sim = np.round(sim, 3)  # ties at grid points too
    folds = np.repeat(np.arange(10), [len(t) for _, t in KFold(10).split(np.arange(n))])
    ours = v.insightface_accuracy(sim, issame, folds)
    mean, std, acc = insightface_direct(sim, issame)
    np.testing.assert_allclose(ours["fold_accuracy"], acc, atol=1e-12)
    assert ours["acc_mean"] == pytest.approx(mean, abs=1e-12)
    assert ours["acc_std"] == pytest.approx(std, abs=1e-12)
    assert 0.7 < ours["acc_mean"] < 0.95


def test_person_folds_never_split_a_person():
    s = synthetic_scores(n_persons=25)
    folds = v.person_folds(s["person_a"], s["person_b"], s["genuine"])
    used = s.assign(fold=folds)[folds >= 0]
    per_person = pd.concat(
        [
            used[["person_a", "fold"]].set_axis(["p", "f"], axis=1),
            used[["person_b", "fold"]].set_axis(["p", "f"], axis=1),
        ]
    )
    assert per_person.groupby("p")["f"].nunique().max() == 1
    assert set(np.unique(folds[folds >= 0])) == set(range(10))
    # every genuine pair is in a fold; cross-fold impostors are left out
    assert (folds[s["genuine"] == 1] >= 0).all()
    assert (folds[s["genuine"] == 0] == -1).any()
    balanced = v.balance_folds(folds, s["genuine"], np.random.default_rng(0))
    for f in range(10):
        m = balanced == f
        assert s["genuine"][m].sum() == (s["genuine"][m] == 0).sum()


# --- bootstrap --------------------------------------------------------------------


def test_weighted_roc_equals_sklearn_with_weights():
    rng = np.random.default_rng(3)
    for trial in range(10):
        n = 2000
        pa = rng.integers(0, 30, n)
        pb = np.where(rng.random(n) < 0.2, pa, rng.integers(0, 30, n))
        g = (pa == pb).astype(int)
        s = np.round(rng.normal(g * 1.0, 1, n), 1 if trial % 2 else 6)
        sp = bs.SortedPairs.build(s, g, pa, pb)
        counts = np.bincount(rng.integers(0, sp.n_persons, sp.n_persons), minlength=sp.n_persons)
        fpr, tpr = sp.roc(counts)
        codes = {p: i for i, p in enumerate(np.unique(np.r_[pa, pb]))}
        ca, cb = counts[[codes[p] for p in pa]], counts[[codes[p] for p in pb]]
        w = np.where(g == 1, ca, ca * cb)
        ours = bs.roc_metrics(fpr, tpr, [0.01, 0.1])
        f2, t2, _ = roc_curve(g, s, sample_weight=w, drop_intermediate=False)
        ref = bs.roc_metrics(f2, t2, [0.01, 0.1])
        assert ours["auc"] == pytest.approx(roc_auc_score(g, s, sample_weight=w), abs=1e-12)
        for k in ref:
            assert ours[k] == pytest.approx(ref[k], abs=1e-12), k


def test_compiled_roc_metrics_equal_the_roc_polygon_and_the_accuracy_its_running_sums():
    """metrics_of (one compiled pass) against roc_metrics of the built ROC: EER and TAR exactly,
    AUC to rounding; the accuracy read off the running sums against weighted counting."""
    rng = np.random.default_rng(11)
    fars = np.array([0.5, 0.1, 0.01, 1e-3])
    for _ in range(60):
        n = int(rng.integers(5, 2000))
        pa = rng.integers(0, int(rng.integers(2, 30)), n)
        pb = np.where(rng.random(n) < 0.3, pa, rng.integers(0, pa.max() + 1, n))
        g = (pa == pb).astype(int)
        if g.all() or not g.any():
            continue
        s = np.round(rng.normal(g * rng.uniform(-1, 2), 1, n), int(rng.integers(0, 4)))
        sp = bs.SortedPairs.build(s, g, pa, pb)
        counts = np.bincount(rng.integers(0, sp.n_persons, sp.n_persons), minlength=sp.n_persons)
        gcum, icum = sp.running_weights(counts)
        fpr, tpr = sp.roc_of(gcum, icum)
        out = np.full(2 + len(fars), np.nan)
        if fpr is None:
            assert not sp.metrics_of(gcum, icum, fars, out) and np.isnan(out).all()
            continue
        assert sp.metrics_of(gcum, icum, fars, out)
        ref = bs.roc_metrics(fpr, tpr, fars)
        assert out[0] == pytest.approx(ref["auc"], abs=1e-12)
        np.testing.assert_array_equal(
            out[1:], [ref["eer"]] + [ref[f"tpr_at_fpr_{f:g}"] for f in fars]
        )
        thr = float(np.median(s))
        codes = {p: i for i, p in enumerate(np.unique(np.r_[pa, pb]))}
        ca, cb = counts[[codes[p] for p in pa]], counts[[codes[p] for p in pb]]
        w = np.where(g == 1, ca, ca * cb)
        right = np.where(g == 1, s > thr, s <= thr)
        gen_right, imp_wrong = int((s[g == 1] > thr).sum()), int((s[g == 0] > thr).sum())
        read = gcum[gen_right] + icum[-1] - icum[imp_wrong]
        assert read == (w * right).sum() and gcum[-1] + icum[-1] == w.sum()


def test_bootstrap_deterministic_under_seed():
    s = synthetic_scores(n_persons=20)
    args = (s["similarity"], s["genuine"], s["person_a"], s["person_b"], [0.01])
    a = bs.subject_bootstrap(*args, n_iterations=200, seed=7, label="all")
    b = bs.subject_bootstrap(*args, n_iterations=200, seed=7, label="all")
    c = bs.subject_bootstrap(*args, n_iterations=200, seed=8, label="all")
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["lo"], c["lo"])
    assert list(a["metric"]) == ["auc", "eer", "roc_fnmr_at_fmr_0.01"]
    assert (a["n_valid"] == 200).all()


def test_bootstrap_ci_covers_true_auc_in_most_draws():
    """Genuine N(d, 1) vs impostor N(0, 1), independent: true AUC = Phi(d / sqrt 2)."""
    d = 1.0
    true_auc = norm.cdf(d / np.sqrt(2))
    covered, draws = 0, 40
    for r in range(draws):
        rng = np.random.default_rng(100 + r)
        # 30 persons, 6 genuine pairs each, impostors among all persons, no person effect
        s, g, pa, pb = _person_effect_scores(rng, n_p=30, per=4, d=d, sigma_u=0.0, sigma_w=0.0)
        ci = bs.subject_bootstrap(s, g, pa, pb, (), n_iterations=300, seed=r).set_index("metric")
        covered += ci.loc["auc", "lo"] <= true_auc <= ci.loc["auc", "hi"]
    assert covered / draws >= 0.85, f"95% CI covered the true AUC in only {covered}/{draws} draws"


# --- the whole table ---------------------------------------------------------------


def test_verification_metrics_table():
    s = synthetic_scores(n_persons=30, nan_every=50)
    metrics, roc = v.verification_metrics(s, [0, 5, 10, 20, 30], n_bootstrap=50, seed=1)
    assert list(metrics.columns) == v.metric_columns(v.FAR_LEVELS)
    assert list(metrics.loc[metrics["subset"] == "gap_bin", "label"]) == [
        "0-4",
        "5-9",
        "10-19",
        "20-29",
        "30+",
    ]
    allrow = metrics[metrics["subset"] == "all"].iloc[0]
    scored = s[s["similarity"].notna()]
    assert allrow["n_unscored"] == s["similarity"].isna().sum()
    assert allrow["auc"] == pytest.approx(roc_auc_score(scored["genuine"], scored["similarity"]))
    assert allrow["auc_lo"] <= allrow["auc"] <= allrow["auc_hi"]
    gap = metrics[metrics["subset"] == "gap_bin"].set_index("label")
    # same-gap impostors: every pair of the bin, genuine or not, has its gap in the bin
    bins = v.assign_gap_bins(scored["age_gap"], [0, 5, 10, 20, 30])
    assert gap.loc["5-9", "n_impostor"] == ((bins == "5-9") & (scored["genuine"] == 0)).sum()
    assert gap["auc"].iloc[0] > gap["auc"].iloc[-1]  # the synthetic similarity falls with the gap
    ranges = metrics[metrics["subset"] == "age_ranges"]
    assert (
        set(ranges["range_a"]) <= set(s["range_a"])
        and (ranges["label"].str.count(r"\|") == 1).all()
    )
    assert ranges["n_genuine"].sum() + ranges["n_impostor"].sum() == len(scored)
    assert set(roc["subset"]) == {"all", "gap_bin", "age_ranges"}
    assert (
        roc.groupby(["subset", "label"])["tpr"].apply(lambda t: t.is_monotonic_increasing)
    ).all()
    # impostors="all": every bin has every impostor
    m2, _ = v.verification_metrics(s, [0, 10], impostors="all", n_bootstrap=0)
    assert (m2.loc[m2["subset"] == "gap_bin", "n_impostor"] == (scored["genuine"] == 0).sum()).all()


VER_SETTINGS = {
    "gap_bins": [0, 10, 20, 30],
    "impostors": "same_gap_bin",
    "bootstrap_iterations": 30,
    "seed": 3,
    "folds": 10,
    "balance_accuracy": True,
    "min_accuracy_pairs": 5,
    "fmr_levels": [0.01, 0.001],
    "min_year_pairs": 5,
}


def _pool_file(scores) -> str:
    """An operating pool for a synthetic scores table: its own impostor pairs."""
    path = Path(str(scores)).with_suffix(".pool.tsv")
    if not path.exists():
        t = read_table(scores)
        write_table(t[t["genuine"] == 0], path, SCORE_COLUMNS)
    return str(path)


def _metrics_step(rule, scores, d, model, common=None, common_operating=None):
    files = {"scores": str(scores), "operating": _pool_file(scores)}
    if common:
        files |= {"common": str(common), "common_operating": str(common_operating)}
    run(
        rule,
        input=files,
        output={k: str(d / f) for k, f in METRIC_FILES.items()},
        settings=VER_SETTINGS,
        wildcards={"model": model},
    )
    run(
        rule.replace("verification_metrics", "ageing_model"),
        input=files,
        output={"table": str(d / "ageing.tsv")},
        settings={"max_pairs": 200_000, "seed": 0},
        wildcards={"model": model},
    )


METRIC_FILES = {
    "metrics": "metrics.tsv",
    "roc": "roc.tsv",
    "conventions": "conventions.json",
    "fnmr": "fnmr.tsv",
    "fnmr_by_year": "fnmr_by_year.tsv",
}


def test_verification_steps_comparison_and_plots(tmp_path):
    from faceage.analysis.comparison import read_result

    models = ["modela", "modelb"]
    for k, model in enumerate(models):
        s = synthetic_scores(n_persons=20, seed=k, slope=-0.01 * (k + 1))
        write_table(s, tmp_path / f"{model}.tsv", SCORE_COLUMNS)
        d = tmp_path / "verification" / model
        _metrics_step("verification_metrics", tmp_path / f"{model}.tsv", d, model)
        run(
            "verification_plots",
            input={
                "metrics": str(d / "metrics.tsv"),
                "roc": str(d / "roc.tsv"),
                "ageing": str(d / "ageing.tsv"),
                "scores": str(tmp_path / f"{model}.tsv"),
            },
            output={k: str(d / f"{k}.png") for k in ("roc", "ranges", "ageing")},
            wildcards={"model": model},
        )
        for f in ["roc.png", "ranges.png", "ageing.png"]:
            assert (d / f).read_bytes()[:4] == b"\x89PNG"
    conv = json.loads((tmp_path / "verification/modela/conventions.json").read_text())
    assert "insightface" in conv["conventions"]["accuracy"] and conv["settings"]["seed"] == 3
    assert "pairs" not in conv["settings"]
    paths = [str(tmp_path / "verification" / m / "metrics.tsv") for m in models]
    ageing = [str(tmp_path / "verification" / m / "ageing.tsv") for m in models]
    probe = tmp_path / "probe.tsv"
    write_table(pd.DataFrame([{"model": "x", "mae": 5.0}]), probe)
    table = run(
        "verification_comparison",
        input={"metrics": paths, "ageing": ageing, "probe": [str(probe)] * 2},
        output={"table": str(tmp_path / "comparison.tsv"), "plot": str(tmp_path / "gap.png")},
        settings={"models": models, "title": "t"} | {k: VER_SETTINGS[k] for k in ("fmr_levels",)},
    )
    assert list(table["model"]) == models and set(table["pairs"]) == {"own"}
    back = read_result(tmp_path / "comparison.tsv")
    assert back.loc[0, "auc"] == pytest.approx(
        read_result(paths[0]).query("subset == 'all'")["auc"].iloc[0]
    )
    for col in [
        "auc_gap_0-9",
        "acc_mean",
        "slope_per_decade",
        "roc_fnmr_at_fmr_0.01",
        "fnmr_at_fmr_0.01",
    ]:
        assert col in back.columns
    assert back.loc[1, "slope_per_decade"] < back.loc[0, "slope_per_decade"] < 0
    assert (tmp_path / "gap.png").stat().st_size > 1000


def test_comparison_on_common_pairs_drops_what_any_model_missed(tmp_path):
    """A model that misses a set of images: those pairs leave every model's headline figures,
    and the table says how many each model lost."""
    from faceage.analysis.comparison import read_result

    s = synthetic_scores(n_persons=20, seed=1)
    lost = s["image_a"].isin(s["image_a"].drop_duplicates().iloc[:15])
    models = {"full": s, "missing": s.assign(similarity=s["similarity"].mask(lost))}
    score_files = {}
    for m, t in models.items():
        score_files[m] = str(tmp_path / f"{m}.tsv")
        write_table(t, score_files[m], SCORE_COLUMNS)
    pools = [_pool_file(score_files[m]) for m in models]
    common = {
        "table": str(tmp_path / "common_pairs.tsv"),
        "ids": str(tmp_path / "ids.tsv"),
        "operating_ids": str(tmp_path / "operating_ids.tsv"),
    }
    run(
        "common_pairs",
        input={"scores": list(score_files.values()), "operating": pools},
        output=common,
        settings={"models": list(models)},
    )
    for m in models:
        _metrics_step(
            "verification_metrics_common",
            score_files[m],
            tmp_path / m / "common",
            m,
            common["ids"],
            common["operating_ids"],
        )
        _metrics_step("verification_metrics", score_files[m], tmp_path / m, m)
    own = read_result(tmp_path / "full" / "metrics.tsv").query("subset == 'all'").iloc[0]
    on_common = {
        m: read_result(tmp_path / m / "common" / "metrics.tsv").query("subset == 'all'").iloc[0]
        for m in models
    }
    n_lost = int(lost.sum())
    assert n_lost > 0
    for m in models:  # both models on the same pairs: the ones "missing" scored
        assert on_common[m]["n_genuine"] + on_common[m]["n_impostor"] == len(s) - n_lost
        assert on_common[m]["n_unscored"] == 0
    assert own["n_genuine"] + own["n_impostor"] == len(s)
    # the same similarities on the same pairs give the same AUC
    assert on_common["full"]["auc"] == pytest.approx(on_common["missing"]["auc"])
    conv = json.loads((tmp_path / "full" / "common" / "conventions.json").read_text())
    assert conv["settings"]["pairs"].startswith(f"common: the {len(s) - n_lost} pairs")
    names = list(models)
    table = run(
        "verification_comparison",
        input={
            "metrics": [str(tmp_path / m / "common" / "metrics.tsv") for m in names],
            "ageing": [str(tmp_path / m / "common" / "ageing.tsv") for m in names],
            "probe": [],
            "common": common["table"],
        },
        output={"table": str(tmp_path / "comparison.tsv"), "plot": str(tmp_path / "gap.png")},
        settings={"models": names, "title": "t"} | {k: VER_SETTINGS[k] for k in ("fmr_levels",)},
    ).set_index("model")
    assert set(table["pairs"]) == {"common"}
    assert table.loc["missing", "n_unscored"] == n_lost
    assert table.loc["full", "n_unscored"] == 0
    assert table.loc["full", "n_dropped_by_others"] == n_lost
    assert (table["n_common"] == len(s) - n_lost).all()


# --- real data: FG-NET with dlib, through the workflow --------------------------------------


@pytest.mark.shared
@pytest.mark.slow
def test_fgnet_dlib_auc_falls_with_age_gap(fgnet_run):
    """The FG-NET preset run (conftest.fgnet_run: matched impostors) through rule all."""
    from faceage.analysis.comparison import read_result

    ver = fgnet_run / "results" / "fgnet" / "verification"
    metrics = read_result(ver / "dlib" / "metrics.tsv")
    gap = metrics[metrics["subset"] == "gap_bin"].set_index("label")
    print(gap[["n_genuine", "n_impostor", "auc", "auc_lo", "auc_hi", "eer", "acc_mean"]])
    assert list(gap.index) == ["0-4", "5-9", "10-19", "20-29", "30+"]
    # matched impostors: as many as genuine pairs in every gap bin (within-fold matching)
    assert (gap["n_impostor"] >= 0.95 * gap["n_genuine"]).all() and (gap["n_genuine"] > 200).all()
    # falls as the gap grows: each bin below the previous, and clearly from first to last
    assert (np.diff(gap["auc"].to_numpy()) < 0).all(), gap["auc"]
    assert gap.loc["30+", "auc_hi"] < gap.loc["0-4", "auc_lo"]
    assert gap.loc["30+", "acc_mean"] < gap.loc["0-4", "acc_mean"]
    conv = json.loads((ver / "dlib" / "conventions.json").read_text())
    assert conv["settings"]["bootstrap_iterations"] == 1000
    comparison = read_result(ver / "comparison.tsv")
    assert comparison.loc[0, "model"] == "dlib" and 0.85 < comparison.loc[0, "auc"] < 1
    for png in [
        "metrics_by_gap.png",
        "dlib/roc_by_gap.png",
        "dlib/age_ranges.png",
        "dlib/ageing.png",
    ]:
        assert (ver / png).read_bytes()[:4] == b"\x89PNG", png


@pytest.mark.shared
@pytest.mark.slow
def test_fgnet_accuracy_uses_every_scored_pair(fgnet_run):
    """config/fgnet.yaml: impostors drawn within person folds, so the 10-fold accuracy of every
    subset uses all its scored pairs; a bin without enough pairs per fold has no accuracy (with
    the reason); no plotted band leaves [0, 1]."""
    from faceage.analysis.comparison import read_result

    ver = fgnet_run / "results" / "fgnet" / "verification"
    m = read_result(ver / "dlib" / "metrics.tsv")
    pairs = pd.read_parquet(fgnet_run / "results" / "fgnet" / "pairs.parquet")
    assert (pairs["fold"] >= 0).all() and pairs["fold"].nunique() == 10
    est = m[np.isfinite(m["acc_mean"].astype(float))]
    assert {"all", "gap_bin"} <= set(est["subset"])
    for _, r in m[m["subset"].isin(["all", "gap_bin"])].iterrows():
        scored = r["n_genuine"] + r["n_impostor"]
        if np.isfinite(r["acc_mean"]):
            assert r["acc_pairs"] == scored, r["label"]
        elif scored:
            assert "accuracy not reported" in r["notes"], r["label"]
    gap = m[m["subset"] == "gap_bin"].set_index("label")
    print(gap[["n_genuine", "n_impostor", "auc", "acc_mean", "acc_lo", "acc_hi", "acc_pairs"]])
    assert (
        gap.loc["30+", "acc_mean"] < gap.loc["0-4", "acc_mean"]
    )  # accuracy falls with the gap, as AUC does
    for col in [c for c in m.columns if c.endswith(("_lo", "_hi"))]:
        v = m[col].astype(float).dropna()
        assert ((v >= 0) & (v <= 1)).all(), col


# --- hand-computed cases: right, not nearly right ---------------------------------------------


def test_eer_and_threshold_interpolated_exactly():
    """Genuine 0.9, 0.5; impostor 0.8, 0.3, 0.1, 0.05. ROC (sklearn, collinear points dropped):
    (0,0) (0,.5)@.9 (.25,.5)@.8 (.25,1)@.5 (1,1)@.05; FAR - FRR = -1, -.5, -.25, .25, 1 changes
    sign between the points at .8 and .5, half-way: EER = .25,
    threshold = .8 + .5 (.5 - .8) = .65."""
    g = np.array([1, 1, 0, 0, 0, 0])
    s = np.array([0.9, 0.5, 0.8, 0.3, 0.1, 0.05])
    m = point_metrics(g, s, fmr_levels=())
    assert m["eer"] == pytest.approx(0.25, abs=1e-12)
    assert m["eer_threshold"] == pytest.approx(0.65, abs=1e-12)
    # the corner case: FAR - FRR reaches 0 exactly at a ROC point
    m = point_metrics(np.array([1, 1, 0, 0]), np.array([0.9, 0.6, 0.7, 0.2]), fmr_levels=())
    assert m["eer"] == pytest.approx(0.5, abs=1e-12) and m["eer_threshold"] == pytest.approx(
        0.7, abs=1e-12
    )


def test_fold_thresholds_and_accuracy_exactly():
    """Two folds, distances d = 2 - 2 cos away from the 0.01 grid's points.
    fold 0: genuine d .2, .425; impostor d 1.8, 1.6.
    fold 1: genuine d .6, .765; impostor 1.4, 1.2.
    Testing fold 0, fold 1 is perfect from t = .77 (first on the grid): cos threshold
    1 - .77/2 = .615, fold 0 all right. Testing fold 1, fold 0 is perfect from t = .43: cos .785,
    both genuine pairs of fold 1 (d .6, .765 >= .43) wrong: 0.5."""
    s = np.array([0.9, 0.7875, 0.1, 0.2, 0.7, 0.6175, 0.3, 0.4])
    g = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    f = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    res = v.insightface_accuracy(s, g, f)
    np.testing.assert_allclose(res["fold_accuracy"], [1.0, 0.5])
    np.testing.assert_allclose(res["fold_threshold"], [0.615, 0.785], atol=1e-12)
    assert res["acc_mean"] == pytest.approx(0.75) and res["acc_std"] == pytest.approx(0.25)
    pa = np.array([f"p{k}" for k in f])
    pb = np.array([f"p{k}" if x else f"q{k}" for k, x in zip(f, g, strict=True)])
    sub = (s, g, pa, pb, f)
    acc = v.subset_accuracy(*sub, "hand", n_folds=2, min_pairs=2)
    assert acc["acc_threshold"] == pytest.approx(0.7, abs=1e-12) and acc["acc_pairs"] == 8
    assert acc["acc_mean"] == pytest.approx(0.75) and acc["acc_note"] == ""
    short = v.subset_accuracy(*sub, "hand", n_folds=2, min_pairs=3)
    # without folds, the persons are dealt to folds here (person_folds): q1 lands in fold 0
    # beside p0, so the p1/q1 impostors are left out
    dealt = v.subset_accuracy(s, g, pa, pb, None, "hand", n_folds=2, min_pairs=1)
    folds = v.person_folds(pa, pb, g, 2)
    assert dealt == v.subset_accuracy(s, g, pa, pb, folds, "hand", n_folds=2, min_pairs=1)
    assert (folds == -1).any() and dealt["acc_pairs"] < 8
    assert np.isnan(short["acc_mean"]) and "fewer than 3 pairs" in short["acc_note"]


def _person_effect_scores(rng, n_p=20, per=6, d=1.5, sigma_u=1.5, sigma_w=0.7):
    persons = np.repeat(np.arange(n_p), per)
    i, j = np.triu_indices(len(persons), 1)
    pa, pb = persons[i], persons[j]
    keep = (pa == pb) | (rng.random(len(pa)) < 0.15)
    pa, pb = pa[keep], pb[keep]
    g = (pa == pb).astype(int)
    u = rng.normal(0, sigma_u, n_p)  # how well each person is recognised: shared by all their pairs
    w = rng.normal(
        0, sigma_w, n_p
    )  # how alike each person looks to others: shared by their impostors
    s = rng.normal(0, 1, len(g)) + g * (d + u[pa]) + (1 - g) * (w[pa] + w[pb])
    return s, g, pa, pb


def _pair_bootstrap_auc(s, g, rng, n_iterations=300):
    idx = rng.integers(0, len(s), size=(n_iterations, len(s)))
    aucs = [roc_auc_score(g[k], s[k]) for k in idx if 0 < g[k].sum() < len(k)]
    return np.quantile(aucs, [0.025, 0.975])


@pytest.mark.slow  # over 15 s on 2 cores (tests/README.md)
def test_subject_bootstrap_covers_with_person_effects_and_pair_bootstrap_does_not():
    """Genuine scores N(d + u_p, 1) with a person effect u_p ~ N(0, 1.5^2), impostor scores
    N(w_p + w_q, 1) with w ~ N(0, 0.7^2): true AUC = Phi(d / sqrt(2 + 1.5^2 + 2 * 0.7^2)). Pairs
    of one person are not independent: the subject-level interval covers the true AUC at about
    its nominal rate; resampling pairs gives intervals that are too narrow (measured: 39/40
    against 18/40)."""
    d, su, sw = 1.5, 1.5, 0.7
    true_auc = norm.cdf(d / np.sqrt(2 + su**2 + 2 * sw**2))
    subject, pair, draws = 0, 0, 40
    for r in range(draws):
        rng = np.random.default_rng(500 + r)
        s, g, pa, pb = _person_effect_scores(rng, d=d, sigma_u=su, sigma_w=sw)
        ci = bs.subject_bootstrap(s, g, pa, pb, (), n_iterations=300, seed=r).set_index("metric")
        subject += ci.loc["auc", "lo"] <= true_auc <= ci.loc["auc", "hi"]
        lo, hi = _pair_bootstrap_auc(s, g, rng)
        pair += lo <= true_auc <= hi
    print(
        f"coverage of the 95 % interval: subject-level {subject}/{draws}, pair-level {pair}/{draws}"
    )
    assert subject / draws >= 0.85
    assert pair / draws <= 0.7 and pair < subject


def test_metrics_from_compact_arrays_equal_the_metrics_of_the_full_table(tmp_path):
    """The bounded-memory path (Parquet -> read_compact -> PairArrays, subsets as row positions)
    gives the table the full read gives, to the last digit, folds and unscored pairs included."""
    from faceage import contracts as c

    s = synthetic_scores(n_persons=25, nan_every=13, seed=4)
    s["fold"] = pd.array(pd.factorize(s["person_a"])[0] % 4, dtype="Int64")
    s.loc[s["person_a"] != s["person_b"], "fold"] = -1
    path = tmp_path / "s.parquet"
    c.write_table(s, path, c.SCORE_COLUMNS)
    kw = {"gap_edges": [0, 10, 20], "n_bootstrap": 50, "seed": 3}
    full = v.verification_metrics(c.read_table(path), **kw)
    compact = c.read_compact(
        path,
        ["similarity", "genuine", "person_a", "person_b", "age_a"]
        + ["age_b", "age_gap", "range_a", "range_b", "fold"],
    )
    arrays = v.PairArrays.of(compact, kw["gap_edges"])
    small = v.verification_metrics(arrays, **kw)
    pd.testing.assert_frame_equal(small[0], full[0])
    pd.testing.assert_frame_equal(small[1], full[1])
    assert (full[0]["subset"] == "age_ranges").any() and full[0]["n_unscored"].iloc[0] > 0
