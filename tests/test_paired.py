"""Paired model comparisons (faceage.analysis.paired): common pairs, paired subject bootstrap,
deployed-threshold FNMR, failure to enrol, d', split by gender."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from faceage.analysis import paired as P
from faceage.analysis import verification as v
from faceage.analysis.roc import point_metrics

GAP_EDGES = [0, 10, 20, 40]


def scores_tables(n_persons=30, per=8, seed=0, n_models=2, u_sd=0.05, slopes=(0.004, 0.008)):
    """{model: scores table}: every genuine pair plus as many impostor pairs (random persons),
    genuine similarity falling with the age gap (model m with slope ``slopes[m]``), a person
    effect shared by all models."""
    rng = np.random.default_rng(seed)
    persons = np.repeat(np.arange(n_persons), per)
    ages = rng.integers(0, 60, len(persons))
    i, j = np.triu_indices(len(persons), 1)
    gen = persons[i] == persons[j]
    pick = rng.choice(int((~gen).sum()), size=int(gen.sum()), replace=False)
    ia, ib = np.r_[i[gen], i[~gen][pick]], np.r_[j[gen], j[~gen][pick]]
    swap = ages[ia] > ages[ib]
    a, b = np.where(swap, ib, ia), np.where(swap, ia, ib)
    g = (persons[a] == persons[b]).astype(int)
    gap = ages[b] - ages[a]
    base = pd.DataFrame(
        {
            "pair_id": np.arange(len(a)),
            "image_a": [f"i{x}" for x in a],
            "image_b": [f"i{x}" for x in b],
            "person_a": [f"p{x:03d}" for x in persons[a]],
            "person_b": [f"p{x:03d}" for x in persons[b]],
            "genuine": g,
            "age_a": ages[a],
            "age_b": ages[b],
            "age_gap": gap,
        }
    )
    u = rng.normal(0, u_sd, n_persons)
    out = {}
    for m in range(n_models):
        s = np.where(g == 1, 0.7 - slopes[m % len(slopes)] * gap + u[persons[a]], 0.3)
        out[f"m{m}"] = base.assign(similarity=s + rng.normal(0, 0.12, len(g)))
    return out


def shifted_models(rng, n_p=40, per=6, d=1.0, su=1.0, sw=0.5, delta=0.6, sdelta=0.4):
    """Model A: genuine N(d + u_p, 1), impostor N(w_p + w_q, 1); model B = A + delta_p on the
    genuine pairs of person p, delta_p ~ N(delta, sdelta^2). Same pairs, same noise."""
    persons = np.repeat(np.arange(n_p), per)
    i, j = np.triu_indices(len(persons), 1)
    pa, pb = persons[i], persons[j]
    keep = (pa == pb) | (rng.random(len(pa)) < 0.15)
    pa, pb = pa[keep], pb[keep]
    g = (pa == pb).astype(int)
    u, w = rng.normal(0, su, n_p), rng.normal(0, sw, n_p)
    shift = rng.normal(delta, sdelta, n_p)
    a = rng.normal(0, 1, len(g)) + g * (d + u[pa]) + (1 - g) * (w[pa] + w[pb])
    base = pd.DataFrame(
        {
            "pair_id": np.arange(len(g)),
            "person_a": pa.astype(str),
            "person_b": pb.astype(str),
            "genuine": g,
            "age_gap": 0,
        }
    )
    return {"A": base.assign(similarity=a), "B": base.assign(similarity=a + g * shift[pa])}


def _row(table, **where):
    m = np.ones(len(table), dtype=bool)
    for k, val in where.items():
        m &= (table[k] == val).to_numpy()
    assert m.sum() == 1, where
    return table[m].iloc[0]


# --- the paired bootstrap ---------------------------------------------------------------


def test_paired_auc_difference_covers_truth_and_is_narrower_than_unpaired():
    """True AUCs: A = Phi(d / sqrt(V)), B = Phi((d + delta) / sqrt(V + sdelta^2)) with
    V = 2 + su^2 + 2 sw^2. The paired interval of A - B covers the truth at about its nominal
    rate (measured 59/60) and is several times narrower than the interval from independent
    draws for A and B (the person effects u_p and the pair noise cancel in the paired
    difference)."""
    d, su, sw, delta, sdelta = 1.0, 1.0, 0.5, 0.6, 0.4
    var = 2 + su**2 + 2 * sw**2
    true = norm.cdf(d / np.sqrt(var)) - norm.cdf((d + delta) / np.sqrt(var + sdelta**2))
    covered, draws, w_paired, w_unpaired = 0, 60, [], []
    for r in range(draws):
        sc = shifted_models(
            np.random.default_rng(1000 + r), d=d, su=su, sw=sw, delta=delta, sdelta=sdelta
        )
        kw = dict(fmr_levels=(), n_bootstrap=300, seed=r, slope=False)
        p = _row(P.paired_comparison(sc, None, **kw).differences, metric="auc")
        u = _row(P.paired_comparison(sc, None, paired=False, **kw).differences, metric="auc")
        covered += p["lo"] <= true <= p["hi"]
        w_paired.append(p["hi"] - p["lo"])
        w_unpaired.append(u["hi"] - u["lo"])
    print(
        f"paired coverage {covered}/{draws}; mean width paired {np.mean(w_paired):.4f}, "
        f"unpaired {np.mean(w_unpaired):.4f}"
    )
    assert covered / draws >= 0.85
    assert np.mean(w_paired) < 0.5 * np.mean(w_unpaired)
    assert np.mean(np.asarray(w_paired) < np.asarray(w_unpaired)) >= 0.95


def test_real_difference_has_small_p_value_and_identical_models_p_one():
    sc = shifted_models(np.random.default_rng(7), delta=1.0, sdelta=0.2)
    diff = _row(
        P.paired_comparison(sc, None, fmr_levels=(), n_bootstrap=300).differences, metric="auc"
    )
    assert diff["estimate"] < 0 and diff["hi"] < 0 and diff["p_value"] < 0.01
    assert diff["p_value"] > 0 and diff["p_text"] == "< 0.0033"  # 1/300, never 0
    assert P.p_text(0.0, 1000) == "< 0.001" and P.p_text(0.034, 1000) == "0.034"
    assert P.p_text(float("nan"), 1000) == ""
    assert P.bootstrap_p_value([1.0, 2.0, 3.0, -1.0]) == 0.5
    assert P.bootstrap_p_value([0.0, 0.0]) == 1.0
    assert P.bootstrap_p_value([1.0, np.nan, 2.0]) == 0.0
    assert np.isnan(P.bootstrap_p_value([np.nan]))


def test_identical_models_differ_by_exactly_zero():
    sc = scores_tables(n_models=1)
    sc = {"A": sc["m0"], "B": sc["m0"].copy()}
    res = P.paired_comparison(sc, GAP_EDGES, fmr_levels=(1e-2,), n_bootstrap=200)
    d = res.differences
    est = d[np.isfinite(d["estimate"])]
    assert len(est) >= 10 and set(est["metric"]) >= {
        "auc",
        "dprime",
        "auc_drop",
        "ols_slope_per_year",
    }
    assert (est["estimate"] == 0).all() and (est["lo"] == 0).all() and (est["hi"] == 0).all()
    assert (est["p_value"] == 1).all() and (est["n_valid"] == 200).all()
    # the per-model intervals are real intervals, the same for both models
    pm = res.per_model.set_index(["model", "subset", "label", "metric"]).sort_index()
    assert (pm.loc["A", "hi"] > pm.loc["A", "lo"]).sum() >= 10
    pd.testing.assert_frame_equal(pm.loc["A"], pm.loc["B"])


def test_point_estimates_equal_sklearn_verification_and_polyfit():
    sc = scores_tables(n_persons=40, n_models=2)
    res = P.paired_comparison(sc, GAP_EDGES, fmr_levels=(1e-2, 1e-3), n_bootstrap=50)
    pm = res.per_model
    for model, t in sc.items():
        subsets = [("all", "all", t)]
        bins = v.assign_gap_bins(t["age_gap"], GAP_EDGES)
        for lab in bins.cat.categories:
            subsets.append(("gap_bin", lab, t[(bins == lab).to_numpy()]))
        for kind, label, sub in subsets:
            g, s = sub["genuine"].to_numpy(), sub["similarity"].to_numpy()
            auc = _row(pm, model=model, subset=kind, label=label, metric="auc")
            assert auc["estimate"] == pytest.approx(roc_auc_score(g, s), abs=1e-12)
            assert auc["lo"] <= auc["estimate"] <= auc["hi"]
            ref = point_metrics(g, s, (1e-2, 1e-3))
            tar = pm[
                (pm.model == model)
                & (pm.label == label)
                & pm.metric.str.startswith("roc_fnmr_at_fmr_")
            ]
            assert len(tar) == 1  # only the largest estimable FMR (1e-2 here)
            tar = tar.iloc[0]
            if np.isfinite(ref["roc_fnmr_at_fmr_0.01"]):
                assert tar["metric"] == "roc_fnmr_at_fmr_0.01" and tar["fmr"] == 0.01
                want = ref["roc_fnmr_at_fmr_0.01"]
                assert tar["estimate"] == pytest.approx(want, abs=1e-12)
            else:
                assert np.isnan(tar["estimate"]) and "not estimable" in tar["note"]
            dp = _row(pm, model=model, subset=kind, label=label, metric="dprime")
            assert dp["estimate"] == pytest.approx(P.decidability(s, g), rel=1e-10)
        gen = t[t["genuine"] == 1]
        slope = _row(pm, model=model, metric="ols_slope_per_year")
        assert slope["estimate"] == pytest.approx(
            np.polyfit(gen["age_gap"], gen["similarity"], 1)[0], rel=1e-9
        )
    # the ageing slopes differ by 0.004 per year by construction; the paired interval sees it
    sl = _row(res.differences, metric="ols_slope_per_year")
    assert sl["lo"] < 0.004 < sl["hi"]
    # no iteration crossed zero: the bootstrap can only say p < 1/iterations, never p = 0
    assert sl["p_value"] == pytest.approx(1 / sl["n_valid"])
    assert sl["p_text"] == f"< {1 / sl['n_valid']:.2g}"
    # age robustness: AUC of the first bin minus AUC of the last, paired across models
    for model in sc:
        drop = _row(pm, model=model, metric="auc_drop")
        first = _row(pm, model=model, label="0-9", metric="auc")["estimate"]
        last = _row(pm, model=model, label="40+", metric="auc")["estimate"]
        assert drop["label"] == "0-9 minus 40+"
        assert drop["estimate"] == pytest.approx(first - last)
    rd = _row(res.differences, metric="auc_drop")
    drops = [_row(pm, model=m, metric="auc_drop")["estimate"] for m in sc]
    assert rd["estimate"] == pytest.approx(drops[0] - drops[1])
    assert rd["hi"] < 0  # m1 loses more AUC with the gap (twice the slope)


def test_deterministic_under_seed():
    sc = scores_tables(n_persons=20)
    a = P.paired_comparison(sc, GAP_EDGES, n_bootstrap=50, seed=3).differences
    b = P.paired_comparison(sc, GAP_EDGES, n_bootstrap=50, seed=3).differences
    c = P.paired_comparison(sc, GAP_EDGES, n_bootstrap=50, seed=4).differences
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["lo"].fillna(0), c["lo"].fillna(0))


# --- common pairs -----------------------------------------------------------------------


def test_pairs_one_model_missed_leave_every_models_figures():
    sc = scores_tables(n_persons=30, n_models=2)
    a, b = sc["m0"], sc["m1"].copy()
    missing = {f"i{k}" for k in range(0, 240, 7)}  # some images m1 could not embed
    hit = (a["image_a"].isin(missing) | a["image_b"].isin(missing)).to_numpy()
    # make those pairs hard for m0, so leaving them out changes m0's figures
    a = a.assign(similarity=np.where(hit & (a["genuine"] == 1), 0.2, a["similarity"]))
    b.loc[hit, "similarity"] = np.nan
    b = b.sample(frac=1.0, random_state=0)  # another row order: aligned on pair_id
    cp = P.common_pairs({"m0": a, "m1": b})
    s = cp.summary.set_index("model")
    k = int(hit.sum())
    assert s.loc["m0", "n_unscored"] == 0 and s.loc["m0", "n_dropped_by_others"] == k
    assert s.loc["m1", "n_unscored"] == k and s.loc["m1", "n_dropped_by_others"] == 0
    assert s.loc["m1", "n_unscored_genuine"] == int((hit & (a["genuine"] == 1)).sum())
    assert (s["n_common"] == len(a) - k).all()
    assert (s["n_unscored"] + s["n_dropped_by_others"] + s["n_common"] == len(a)).all()
    assert not cp.pairs["image_a"].isin(missing).any()
    assert not cp.pairs["image_b"].isin(missing).any()
    kept = a[~hit]
    pd.testing.assert_series_equal(
        cp.scores("m0").set_index("pair_id")["similarity"],
        kept.set_index("pair_id")["similarity"],
    )
    res = P.paired_comparison({"m0": a, "m1": b}, GAP_EDGES, fmr_levels=(), n_bootstrap=20)
    pm = res.per_model
    for model in ("m0", "m1"):
        row = _row(pm, model=model, subset="all", metric="auc")
        assert row["n_genuine"] == int((kept["genuine"] == 1).sum())
        assert row["n_impostor"] == int((kept["genuine"] == 0).sum())
    auc0 = _row(pm, model="m0", subset="all", metric="auc")["estimate"]
    assert auc0 == pytest.approx(roc_auc_score(kept["genuine"], kept["similarity"]))
    assert auc0 != pytest.approx(roc_auc_score(a["genuine"], a["similarity"]), abs=1e-3)
    f = P.deployed_fnmr({"m0": a, "m1": b}, GAP_EDGES, fmr_levels=(1e-2,), n_bootstrap=0)
    assert (f.loc[f["gap_bin"] == "all", "n_genuine"] == (kept["genuine"] == 1).sum()).all()
    assert (f["n_impostor"] == (kept["genuine"] == 0).sum()).all()


def test_common_pairs_refuses_disagreeing_tables():
    sc = scores_tables(n_persons=10)
    bad = sc["m1"].copy()
    bad.loc[bad.index[0], "genuine"] = 1 - bad.loc[bad.index[0], "genuine"]
    with pytest.raises(ValueError, match="disagree"):
        P.common_pairs({"m0": sc["m0"], "m1": bad})
    with pytest.raises(ValueError, match="repeats"):
        P.common_pairs({"m0": pd.concat([sc["m0"], sc["m0"].head(1)])})


# --- failure to enrol -------------------------------------------------------------------


def test_failure_to_enrol_exact_counts_and_wilson_interval():
    images = {
        "m0": pd.DataFrame(
            {
                "image_id": list("abcdefg"),
                "age": [5, 8, 12, 15, 30, None, 9],
                "enrolled": [True, False, False, True, True, False, True],
            }
        ),
        "m1": pd.DataFrame({"image_id": list("abc"), "age": [1, 2, 3], "enrolled": [True] * 3}),
    }
    t = P.failure_to_enrol(images, [0, 10, 20, 40])
    m0 = t[t["model"] == "m0"].set_index("age_range")
    assert list(m0.index) == ["0-9", "10-19", "20-39", "40+", "unknown", "all"]
    assert m0["n_images"].tolist() == [3, 2, 1, 0, 1, 7]
    assert m0["n_not_enrolled"].tolist() == [1, 1, 0, 0, 1, 3]
    assert m0.loc["0-9", "fte"] == pytest.approx(1 / 3)
    assert m0.loc["all", "fte"] == pytest.approx(3 / 7)
    assert np.isnan(m0.loc["40+", "fte"])
    # Wilson interval by hand for 1 of 3
    z, n, ph = norm.ppf(0.975), 3, 1 / 3
    centre = (ph + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(ph * (1 - ph) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert m0.loc["0-9", "fte_lo"] == pytest.approx(centre - half)
    assert m0.loc["0-9", "fte_hi"] == pytest.approx(centre + half)
    m1 = t[t["model"] == "m1"].set_index("age_range")
    assert "unknown" not in m1.index
    assert m1.loc["all", "fte"] == 0 and m1.loc["all", "fte_lo"] == 0
    assert 0 < m1.loc["all", "fte_hi"] < 1
    cp = P.failure_to_enrol(images["m0"], [0, 10], method="beta")
    assert (cp["model"] == "").all() and cp["n_not_enrolled"].tolist() == [1, 1, 1, 3]
    with pytest.raises(ValueError, match="missing"):
        P.failure_to_enrol(pd.DataFrame({"age": [1], "enrolled": [None]}), [0])


# --- deployed-threshold FNMR ------------------------------------------------------------


def _fnmr_table():
    """100 impostor pairs scoring 0.00, 0.01, ..., 0.99 among 10 persons; genuine pairs with gap
    2 scoring 0.5, 0.89, 0.895, 0.95 and with gap 7 scoring 0.95, 0.99."""
    imp_s = np.arange(100) / 100
    rng = np.random.default_rng(0)
    pa = rng.integers(0, 5, 100)
    pb = rng.integers(5, 10, 100)
    gen_s = [0.5, 0.89, 0.895, 0.95, 0.95, 0.99]
    gp = [0, 1, 2, 3, 4, 5]
    gap = [2, 2, 2, 2, 7, 7]
    return pd.DataFrame(
        {
            "pair_id": np.arange(106),
            "person_a": [f"p{x}" for x in np.r_[pa, gp]],
            "person_b": [f"p{x}" for x in np.r_[pb, gp]],
            "genuine": np.r_[np.zeros(100, int), np.ones(6, int)],
            "age_gap": np.r_[np.zeros(100, int), gap],
            "similarity": np.r_[imp_s, gen_s],
        }
    )


def test_fnmr_at_a_fixed_threshold_known_answer():
    t = P.deployed_fnmr({"m": _fnmr_table()}, [0, 5, 10], fmr_levels=(0.1, 0.01), n_bootstrap=200)
    assert list(t.columns[:9]) == [
        "model",
        "fmr",
        "threshold",
        "gap_bin",
        "n_genuine",
        "fnmr",
        "fnmr_lo",
        "fnmr_hi",
        "note",
    ]
    f = t[t["fmr"] == 0.1].set_index("gap_bin")
    # at most 10 of the 100 impostors may be accepted: 0.90 .. 0.99; 0.89 must be rejected
    assert (f["threshold"] > 0.89).all() and (f["threshold"] <= np.nextafter(0.89, 1)).all()
    assert np.allclose(f["fmr_achieved"], 0.1)
    assert f.loc["all", "fnmr"] == pytest.approx(2 / 6)
    assert f.loc["0-4", "fnmr"] == pytest.approx(2 / 4)  # 0.5 and 0.89 rejected
    assert f.loc["5-9", "fnmr"] == 0.0
    assert f.loc["10+", "n_genuine"] == 0 and f.loc["10+", "note"] == "no genuine pairs"
    assert f.loc[["all", "0-4", "5-9"], "n_genuine"].tolist() == [6, 4, 2]
    ok = f.loc[["all", "0-4", "5-9"]]
    assert ((ok["fnmr_lo"] <= ok["fnmr"]) & (ok["fnmr"] <= ok["fnmr_hi"])).all()
    assert ((ok["fnmr_lo"] >= 0) & (ok["fnmr_hi"] <= 1)).all()
    small = t[t["fmr"] == 0.01]
    assert small["fnmr"].isna().all() and small["threshold"].isna().all()
    assert small["note"].str.contains("not estimable: 100 impostor pairs").all()
    assert small["note"].str.contains(">= 1000").all()


def test_fnmr_by_year_keeps_the_years_with_enough_pairs():
    t = _fnmr_table()
    y = P.deployed_fnmr({"m": t}, None, fmr_levels=(0.1,), by_year=True, min_year_pairs=3)
    f = y.set_index("gap_bin")
    # gap 2 has 4 genuine pairs (kept), gap 7 has 2 (left out)
    assert list(f.index) == ["all", "2"]
    assert f.loc["2", "n_genuine"] == 4 and f.loc["2", "fnmr"] == pytest.approx(2 / 4)
    assert f.loc["all", "fnmr"] == pytest.approx(2 / 6)
    both = P.deployed_fnmr({"m": t}, None, fmr_levels=(0.1,), by_year=True, min_year_pairs=2)
    assert list(both["gap_bin"]) == ["all", "2", "7"]
    assert both.set_index("gap_bin").loc["7", "fnmr"] == 0.0


def test_fnmr_ties_are_never_split_and_all_equals_one_minus_tar():
    t = _fnmr_table()
    t.loc[t["similarity"].between(0.885, 0.895) & (t["genuine"] == 0), "similarity"] = 0.9
    f = P.deployed_fnmr({"m": t}, None, fmr_levels=(0.1,), n_bootstrap=0).iloc[0]
    # 0.89 now ties with 0.90: accepting both would give FMR 0.11 > 0.1, so both are rejected
    assert f["fmr_achieved"] == pytest.approx(0.09)
    assert 0.9 < f["threshold"] <= np.nextafter(0.9, 1)
    assert f["fnmr"] == pytest.approx(3 / 6)  # 0.5, 0.89, 0.895
    sc = scores_tables(n_persons=60, per=8, n_models=1)["m0"]  # 1680 impostor pairs
    sc = sc.assign(similarity=sc["similarity"].round(2))  # many ties
    f = P.deployed_fnmr({"m": sc}, None, fmr_levels=(1e-2,), n_bootstrap=0).iloc[0]
    ref = point_metrics(sc["genuine"], sc["similarity"], (1e-2,))
    assert np.isfinite(f["fnmr"])
    assert f["fnmr"] == pytest.approx(ref["roc_fnmr_at_fmr_0.01"], abs=1e-12)


# --- d' ---------------------------------------------------------------------------------


def test_decidability_on_known_data():
    # genuine mean 2, variance 1 (ddof 0); impostor mean 0, variance 1: d' = 2
    assert P.decidability([1.0, 3.0, -1.0, 1.0], [1, 1, 0, 0]) == pytest.approx(2.0)
    assert P.decidability([1.0, 3.0, np.nan, -1.0, 1.0], [1, 1, 1, 0, 0]) == pytest.approx(2.0)
    rng = np.random.default_rng(0)
    s = np.r_[rng.normal(2.0, 1.0, 200_000), rng.normal(0.0, 1.0, 200_000)]
    g = np.r_[np.ones(200_000), np.zeros(200_000)]
    assert P.decidability(s, g) == pytest.approx(2.0, abs=0.02)
    # unequal variances: d' = 2 / sqrt((1 + 4) / 2)
    s = np.r_[rng.normal(2.0, 1.0, 200_000), rng.normal(0.0, 2.0, 200_000)]
    assert P.decidability(s, g) == pytest.approx(2 / np.sqrt(2.5), abs=0.02)
    assert np.isnan(P.decidability([1.0, 2.0], [1, 1]))


# --- by gender --------------------------------------------------------------------------


def test_split_by_gender():
    sc = scores_tables(n_persons=30, n_models=1)["m0"]
    persons = sorted(set(sc["person_a"]) | set(sc["person_b"]))
    gender = {p: ("f" if k < 20 else "m") for k, p in enumerate(persons)}
    subsets, summary = P.split_by_gender(sc, gender, min_persons=10)
    s = summary.set_index("gender")
    assert set(subsets) == {"f", "m"} and s.loc["f", "n_persons"] == 20
    f = subsets["f"]
    assert f["person_a"].map(gender).eq("f").all() and f["person_b"].map(gender).eq("f").all()
    cross = (sc["person_a"].map(gender) != sc["person_b"].map(gender)).sum()
    assert len(subsets["f"]) + len(subsets["m"]) == len(sc) - cross
    assert (sc["genuine"] == 1).sum() == s["n_genuine"].sum()
    # too few persons of one gender: skipped with the count per gender
    subsets, summary = P.split_by_gender(sc, gender, min_persons=15)
    assert set(subsets) == {"f"}
    note = summary.set_index("gender").loc["m", "note"]
    assert "10 persons of gender m" in note and "f: 20" in note
    # a manifest with one person unlabelled and one with disagreeing labels
    manifest = pd.DataFrame(
        {
            "person": persons + [persons[0]],
            "gender": [gender[p] for p in persons[:-1]] + [None, "m"],
        }
    )
    subsets, summary = P.split_by_gender(sc, manifest, min_persons=5)
    s = summary.set_index("gender")
    assert s.loc["unknown", "n_persons"] == 2 and s.loc["f", "n_persons"] == 19
    assert persons[0] not in set(subsets["f"]["person_a"])
    # no labels at all: nothing split, a note says why
    subsets, summary = P.split_by_gender(sc, {p: None for p in persons})
    assert subsets == {} and "no gender labels" in summary["note"].iloc[0]


def test_forest_plot_states_p_as_the_bootstrap_can():
    from faceage.plots.paired import _p_label

    assert _p_label("< 0.001") == "p < 0.001"
    assert _p_label("0.034") == "p = 0.034"
    assert _p_label(float("nan")) == "p n/a"
    assert "p=0" not in _p_label(P.p_text(0.0, 1000))
