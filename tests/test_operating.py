"""Operating points: FNMR at a fixed FMR with the threshold set on the operating pool (against a
direct computation), the bootstrap over the pool's persons, DET equal to scikit-learn's
det_curve, the metrics cells, and the score files other tools read."""

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import det_curve

from faceage.analysis import operating as op
from faceage.analysis.det import det_points, det_table, thin_det
from faceage.exports import BOB_COLUMNS, bob_rows, write_pyeer


def _world(n_persons=40, per=6, n_pool=20_000, seed=0):
    """Genuine pairs (persons p000.., gaps 0-39) and a separate impostor pool whose scores
    differ from any impostor pair of the genuine table."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_persons):
        for _k in range(per):
            gap = int(rng.integers(0, 40))
            rows.append((f"p{p:03d}", f"p{p:03d}", 1, gap, 0.8 - 0.01 * gap + rng.normal(0, 0.1)))
    gen = pd.DataFrame(rows, columns=["person_a", "person_b", "genuine", "age_gap", "similarity"])
    a = rng.integers(0, n_persons, n_pool)
    b = (a + 1 + rng.integers(0, n_persons - 1, n_pool)) % n_persons
    pool = pd.DataFrame(
        {
            "person_a": [f"p{x:03d}" for x in a],
            "person_b": [f"p{x:03d}" for x in b],
            "genuine": 0,
            "age_gap": rng.integers(0, 40, n_pool),
            "similarity": rng.normal(0.2, 0.15, n_pool),
        }
    )
    return gen, pool


def test_fnmr_at_fmr_equals_a_direct_computation_on_the_pool():
    gen, pool = _world()
    ops = op.OperatingScores.of(gen, pool)
    assert ops.impostors == op.POOL and len(ops.imp_s) == len(pool)
    groups = op.gap_groups(ops.gen_gap, [0, 10, 20])
    t = op.fnmr_at_fmr(ops, groups, (1e-2, 1e-3, 1e-4), n_bootstrap=50, model="m")
    imp = np.sort(pool["similarity"].to_numpy())[::-1]
    for fmr in (1e-2, 1e-3):
        # the direct way: accept the k highest impostors with k / n <= fmr, ties never split
        k = int(np.floor(fmr * len(imp) * (1 + 1e-12)))
        while k > 0 and imp[k] == imp[k - 1]:
            k -= 1
        thr = np.nextafter(imp[k], np.inf)
        rows = t[t["fmr"] == fmr].set_index("gap_bin")
        assert rows["threshold"].iloc[0] == thr
        for lab, idx in groups:
            s = gen["similarity"].to_numpy()[idx]
            assert rows.loc[lab, "fnmr"] == pytest.approx(np.mean(s < thr), abs=0)
            assert rows.loc[lab, "n_genuine"] == len(idx)
            assert rows.loc[lab, "fnmr_lo"] <= rows.loc[lab, "fnmr"] <= rows.loc[lab, "fnmr_hi"]
        assert (rows["n_impostor"] == len(pool)).all()
        assert (rows["fmr_achieved"] <= fmr).all()
    small = t[t["fmr"] == 1e-4]
    assert small["fnmr"].isna().all()
    assert small["note"].str.contains(f"not estimable: {len(pool)} impostor pairs").all()


def test_without_a_pool_the_thresholds_rest_on_the_pairs_table():
    gen, pool = _world()
    both = pd.concat([gen, pool.head(1000)], ignore_index=True)
    ops = op.OperatingScores.of(both)
    assert ops.impostors == "pairs table" and len(ops.imp_s) == 1000
    t = op.fnmr_at_fmr(ops, op.gap_groups(ops.gen_gap, None), (1e-3,), n_bootstrap=0)
    assert np.isnan(t["fnmr"].iloc[0]) and "needs >= 10000" in t["note"].iloc[0]


def test_the_bootstrap_resamples_the_pools_persons_and_is_seeded():
    gen, pool = _world()
    ops = op.OperatingScores.of(gen, pool)
    groups = op.gap_groups(ops.gen_gap, None)
    a = op.fnmr_at_fmr(ops, groups, (1e-2,), n_bootstrap=200, seed=3)
    b = op.fnmr_at_fmr(ops, groups, (1e-2,), n_bootstrap=200, seed=3)
    pd.testing.assert_frame_equal(a, b)
    r = a.iloc[0]
    assert r["n_valid"] == 200 and r["fnmr_lo"] < r["fnmr"] < r["fnmr_hi"]
    # a direct loop over the same person draws gives the same interval
    rng = op.subset_rng(3, "fnmr")
    vals = []
    s_imp = pool["similarity"].to_numpy()
    codes = {p: k for k, p in enumerate(sorted(set(gen["person_a"]) | set(pool["person_a"])))}
    ia = pool["person_a"].map(codes).to_numpy()
    ib = pool["person_b"].map(codes).to_numpy()
    gp = gen["person_a"].map(codes).to_numpy()
    s_gen = gen["similarity"].to_numpy()
    for _ in range(200):
        c = op.draws(rng, len(codes))
        w = c[ia] * c[ib]
        order = np.argsort(-s_imp, kind="stable")
        cum = np.cumsum(w[order]) / w.sum()
        k = np.searchsorted(cum, 1e-2 * (1 + 1e-12), side="right")
        thr = np.nextafter(s_imp[order][k], np.inf)
        vals.append((c[gp] * (s_gen < thr)).sum() / c[gp].sum())
    lo, hi = np.quantile(vals, [0.025, 0.975])
    assert r["fnmr_lo"] == pytest.approx(lo) and r["fnmr_hi"] == pytest.approx(hi)


def test_det_points_equal_sklearn_and_the_table_keeps_a_subset_of_them():
    gen, pool = _world()
    ops = op.OperatingScores.of(gen, pool)
    fmr, fnmr, thr = det_points(ops.gen_s, ops.imp_s)
    y = np.r_[np.ones(len(ops.gen_s)), np.zeros(len(ops.imp_s))]
    ref = det_curve(y, np.r_[ops.gen_s, ops.imp_s])
    for mine, theirs in zip((fmr, fnmr, thr), ref, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    t = det_table(ops, op.gap_groups(ops.gen_gap, [0, 20]), "m")
    assert set(t["gap_bin"]) == {"all", "0-19", "20+"}
    part = t[t["gap_bin"] == "all"]
    full = pd.DataFrame({"fmr": fmr, "fnmr": fnmr, "threshold": thr})
    merged = part.merge(full, on="threshold", suffixes=("", "_full"))
    assert len(merged) == len(part) > 20  # every kept point is a det_curve point
    np.testing.assert_array_equal(merged["fmr"], merged["fmr_full"])
    np.testing.assert_array_equal(merged["fnmr"], merged["fnmr_full"])
    tf, tn, _ = thin_det(fmr, fnmr, thr)
    assert ((tf > 0) & (tf < 1) & (tn > 0) & (tn < 1)).all()


def test_metrics_cells_on_the_pool_and_roc_figures_kept():
    gen, pool = _world()
    ops = op.OperatingScores.of(gen, pool)
    fnmr = op.fnmr_at_fmr(ops, op.gap_groups(ops.gen_gap, [0, 20]), (1e-2, 1e-3), n_bootstrap=20)
    metrics = pd.DataFrame(
        {
            "subset": ["all", "gap_bin", "gap_bin", "age_ranges"],
            "label": ["all", "0-19", "20+", "0-10|11-20"],
            "roc_fnmr_at_fmr_0.01": [0.5, 0.4, 0.3, 0.2],
            "roc_fnmr_at_fmr_0.01_lo": np.nan,
            "roc_fnmr_at_fmr_0.01_hi": np.nan,
            "roc_fnmr_at_fmr_0.01_threshold": np.nan,
            "notes": ["roc_fnmr_at_fmr_0.01 not estimable (10 pairs, needs >= 1000)", "", "", ""],
        }
    )
    out = op.with_operating_points(metrics, fnmr, (1e-3,), "age-matched")
    f = fnmr.set_index(["fmr", "gap_bin"])
    assert out.loc[0, "fnmr_at_fmr_0.001"] == f.loc[(1e-3, "all"), "fnmr"]
    assert out.loc[2, "fnmr_at_fmr_0.001"] == f.loc[(1e-3, "20+"), "fnmr"]
    assert np.isnan(out.loc[3, "fnmr_at_fmr_0.001"])
    # one impostor set per column: every row's ROC figure stays on its ROC impostors
    assert list(out["roc_fnmr_at_fmr_0.01"]) == [0.5, 0.4, 0.3, 0.2]
    assert (out["roc_impostors"] == "age-matched").all()
    assert (out.loc[:2, "n_operating_impostors"] == len(pool)).all()
    assert (out["n_operating_impostors"].iloc[:3] == len(pool)).all()
    assert (out["roc_impostors"] == "age-matched").all()


def test_score_files_read_back_by_an_independent_reader(tmp_path):
    scores = pd.DataFrame(
        {
            "image_a": ["001A02.JPG", "001A02.JPG", "002A05.JPG"],
            "image_b": ["001A10.JPG", "002A05.JPG", "003A07.JPG"],
            "person_a": ["001", "001", "002"],
            "person_b": ["001", "002", "003"],
            "genuine": [1, 0, 0],
            "age_a": [2, 2, 5],
            "age_b": [10, 5, 7],
            "similarity": [0.91234567891, np.nan, 0.25],
        }
    )
    rows = bob_rows(scores)
    path = tmp_path / "bob.csv"
    rows.to_csv(path, index=False, float_format="%.9g")
    text = path.read_text().splitlines()
    assert text[0] == (
        "probe_template_id,probe_subject_id,probe_age,"
        "bio_ref_template_id,bio_ref_subject_id,bio_ref_age,score"
    )
    assert text[1] == "001A10.JPG,001,10,001A02.JPG,001,2,0.912345679"  # by hand
    assert len(text) == 3  # the unscored pair is left out
    import csv

    read = list(csv.DictReader(io.StringIO(path.read_text())))
    assert list(read[0]) == BOB_COLUMNS
    genuine = [r for r in read if r["probe_subject_id"] == r["bio_ref_subject_id"]]
    assert len(genuine) == 1 and float(read[1]["score"]) == 0.25
    buf = io.StringIO()
    write_pyeer(np.array([0.5, 0.125, 1 / 3]), buf)
    assert [float(x) for x in buf.getvalue().split()] == pytest.approx([0.5, 0.125, 1 / 3])
    assert buf.getvalue().count("\n") == 3


def test_paired_fnmr_uses_the_common_pool_and_the_one_implementation():
    from faceage.analysis import paired as P

    gen, pool = _world(n_pool=5000)
    gen = gen.assign(pair_id=np.arange(len(gen)))
    pool = pool.assign(pair_id=np.arange(len(pool)))
    m1_pool = pool.copy()
    m1_pool.loc[:99, "similarity"] = np.nan  # m1 could not score 100 pool pairs
    pools = {"m0": pool, "m1": m1_pool}
    scores = {"m0": gen, "m1": gen}
    t = P.deployed_fnmr(scores, [0, 20], (1e-2,), n_bootstrap=100, impostors=pools)
    assert (t["n_impostor"] == len(pool) - 100).all() and (t["impostors"] == op.POOL).all()
    # identical models on the same common pool, the same persons drawn: identical rows
    a = t[t["model"] == "m0"].drop(columns="model").reset_index(drop=True)
    b = t[t["model"] == "m1"].drop(columns="model").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    # and the per-model implementation on that common pool gives the same table
    ops = op.OperatingScores.of(gen, pool.iloc[100:])
    own = op.fnmr_at_fmr(ops, op.gap_groups(ops.gen_gap, [0, 20]), (1e-2,), 100, model="m0")
    pd.testing.assert_frame_equal(t[t["model"] == "m0"].reset_index(drop=True), own)


def test_paired_overall_fnmr_is_set_on_the_pool():
    from faceage.analysis import paired as P

    gen, pool = _world(n_pool=5000)
    gen = gen.assign(pair_id=np.arange(len(gen)))
    pool = pool.assign(pair_id=np.arange(len(pool)))
    other = gen.assign(similarity=gen["similarity"] + 0.05)
    scores = {"m0": gen, "m1": other}
    common = P.common_pairs(scores)
    cpool = P.common_pairs({"m0": pool, "m1": pool})
    res = P.paired_comparison(common, [0, 20], (1e-2,), n_bootstrap=50, pool=cpool)
    fn = P.deployed_fnmr(common, None, (1e-2,), n_bootstrap=0, impostors=cpool)
    pm = res.per_model[res.per_model["metric"].str.endswith("fnmr_at_fmr_0.01")]
    overall = pm[pm["subset"] == "all"].set_index("model")
    for m in ("m0", "m1"):
        expect = fn[fn["model"] == m]["fnmr"].iloc[0]
        assert overall.loc[m, "estimate"] == pytest.approx(expect)
        assert overall.loc[m, "n_impostor"] == len(pool)
        assert "operating pool" in overall.loc[m, "note"]
        assert overall.loc[m, "lo"] <= overall.loc[m, "estimate"] <= overall.loc[m, "hi"]
    d = res.differences
    diff = d[(d["metric"] == "fnmr_at_fmr_0.01") & (d["subset"] == "all")].iloc[0]
    assert diff["estimate"] > 0 and diff["lo"] > 0  # m1 misses fewer at the same FMR
    assert set(pm[pm["subset"] == "gap_bin"]["metric"]) == {"roc_fnmr_at_fmr_0.01"}
    # gap bins keep their own ROC impostors (none of the genuine table here)
    assert (pm[pm["subset"] == "gap_bin"]["n_impostor"] == 0).all()


def test_score_exports_step_streams_genuine_pairs_and_the_pool(tmp_path):
    import csv

    from faceage.contracts import SCORE_COLUMNS, write_table
    from faceage.steps import run

    gen, pool = _world(n_persons=5, per=4, n_pool=300)

    def table(t, genuine):
        n = len(t)
        return t.assign(
            pair_id=np.arange(n),
            image_a=[f"a{k}.jpg" for k in range(n)],
            image_b=[f"b{k}.jpg" for k in range(n)],
            genuine=genuine,
            age_a=10,
            age_b=10 + t["age_gap"],
            range_a="11-20",
            range_b="11-20",
        )[SCORE_COLUMNS]

    scores = pd.concat([table(gen, 1), table(pool.head(50), 0)], ignore_index=True)
    scores.loc[0, "similarity"] = np.nan  # unscored: left out
    write_table(scores, tmp_path / "scores.parquet")
    write_table(table(pool, 0), tmp_path / "pool.parquet")
    out = {
        k: str(tmp_path / f)
        for k, f in (("bob", "bob.csv"), ("genuine", "g.txt"), ("impostor", "i.txt"))
    }
    run(
        "score_exports",
        input={
            "scores": str(tmp_path / "scores.parquet"),
            "operating": str(tmp_path / "pool.parquet"),
        },
        output=out,
    )
    rows = list(csv.DictReader(io.StringIO(Path(out["bob"]).read_text())))
    same = [r for r in rows if r["probe_subject_id"] == r["bio_ref_subject_id"]]
    assert len(same) == len(gen) - 1 and len(rows) == len(gen) - 1 + len(pool)
    g = np.loadtxt(out["genuine"])
    i = np.loadtxt(out["impostor"])
    assert len(g) == len(gen) - 1 and len(i) == len(pool)  # the pool, not the 50 matched
    np.testing.assert_allclose(np.sort(i), np.sort(pool["similarity"]), atol=1e-5)
