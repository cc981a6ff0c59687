"""The operating impostor pool: exhaustive when small, a persons-balanced seeded sample when
large, never a pair of one person or of two copies of one photo."""

import numpy as np
import pandas as pd
import pytest

from faceage.impostor_pool import n_cross_pairs, operating_pairs


def _clean(sizes, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for p, n in enumerate(sizes):
        for k in range(n):
            rows.append(
                {
                    "image_id": f"p{p:03d}_{k:03d}",
                    "person": f"p{p:03d}",
                    "age": int(rng.integers(0, 70)),
                }
            )
    return pd.DataFrame(rows)


def test_small_sets_give_every_cross_person_pair():
    clean = _clean([3, 4, 5, 2])
    pool = operating_pairs(clean, max_pairs=1000)
    n = 14
    expected = (n * n - (9 + 16 + 25 + 4)) // 2
    assert n_cross_pairs(clean["person"]) == expected == len(pool)
    assert pool.attrs["exhaustive"]
    assert (pool["person_a"] != pool["person_b"]).all() and (pool["genuine"] == 0).all()
    keys = set(zip(pool["image_a"].astype(str), pool["image_b"].astype(str), strict=True))
    assert len(keys) == len(pool)
    assert (pool["age_a"] <= pool["age_b"]).all()
    assert (pool["age_gap"] == pool["age_b"] - pool["age_a"]).all()
    assert pool["pair_id"].tolist() == list(range(len(pool)))


def test_large_sets_give_a_seeded_persons_balanced_sample():
    # one person with 200 photos, 40 with 5: uniform pairs would put the big one in ~2/3 of them
    clean = _clean([200] + [5] * 40)
    total = n_cross_pairs(clean["person"])
    pool = operating_pairs(clean, max_pairs=3000, seed=1)
    assert len(pool) == 3000 < total and not pool.attrs["exhaustive"]
    assert (pool["person_a"] != pool["person_b"]).all()
    keys = pool["image_a"].astype(str) + "|" + pool["image_b"].astype(str)
    assert keys.is_unique
    share_big = ((pool["person_a"] == "p000") | (pool["person_b"] == "p000")).mean()
    assert share_big == pytest.approx(2 / 41, abs=0.02)  # each person in ~2/41 of the pairs
    again = operating_pairs(clean, max_pairs=3000, seed=1)
    pd.testing.assert_frame_equal(pool, again)
    other = operating_pairs(clean, max_pairs=3000, seed=2)
    assert not keys.equals(other["image_a"].astype(str) + "|" + other["image_b"].astype(str))


def test_two_names_of_one_photo_are_never_an_impostor_pair():
    clean = _clean([3, 3])
    clean["alias_of"] = pd.array([pd.NA] * len(clean), dtype="string")
    clean.loc[3, "alias_of"] = clean.loc[0, "image_id"]  # p001_000 is a copy of p000_000
    pool = operating_pairs(clean, max_pairs=100)
    pair = {str(clean.loc[0, "image_id"]), str(clean.loc[3, "image_id"])}
    assert not any(
        {a, b} == pair
        for a, b in zip(pool["image_a"].astype(str), pool["image_b"].astype(str), strict=True)
    )
    assert len(pool) == 9 - 1


def test_an_empty_pool_leaves_every_level_not_estimable():
    from faceage.analysis import operating as op
    from faceage.analysis.det import det_table

    clean = _clean([3, 4])
    pool = operating_pairs(clean, max_pairs=0)
    assert len(pool) == 0 and list(pool.columns[:3]) == ["pair_id", "image_a", "image_b"]
    gen = pd.DataFrame(
        {"person_a": ["p000"] * 3, "genuine": 1, "age_gap": [1, 2, 3], "similarity": [0.5] * 3}
    )
    ops = op.OperatingScores.of(gen, pool.assign(similarity=np.float64(0)))
    t = op.fnmr_at_fmr(ops, op.gap_groups(ops.gen_gap, None), (1e-3,), n_bootstrap=10)
    assert np.isnan(t["fnmr"]).all() and t["note"].str.contains("0 impostor pairs").all()
    assert det_table(ops, op.gap_groups(ops.gen_gap, None)).empty
