"""Pair generation: counts, ordering, age ranges, seeded impostors matched on age gap."""

from math import comb

import numpy as np
import pandas as pd
import pytest

from faceage.pair_sampling import age_range, genuine_pairs, impostor_pairs, range_labels
from faceage.pairs import make_pairs


@pytest.fixture
def clean():
    rng = np.random.default_rng(0)
    rows = []
    for p in range(12):
        for k, age in enumerate(
            sorted(rng.choice(np.arange(0, 80), size=6 + p % 3, replace=False))
        ):
            rows.append({"image_id": f"p{p:02d}_{k}", "person": f"p{p:02d}", "age": int(age)})
    return pd.DataFrame(rows)


def test_range_labels_and_bins():
    assert range_labels([0, 11, 21, 71]) == ["0-10", "11-20", "21-70", "71+"]
    assert list(age_range([0, 10, 11, 20, 21, 70, 71, 99], [0, 11, 21, 71])) == [
        "0-10",
        "0-10",
        "11-20",
        "11-20",
        "21-70",
        "21-70",
        "71+",
        "71+",
    ]


def test_genuine_pairs_are_all_same_person_pairs(clean):
    gen = genuine_pairs(clean)
    expected = sum(comb(n, 2) for n in clean.groupby("person").size())
    assert len(gen) == expected
    assert (gen["person_a"] == gen["person_b"]).all()
    assert (gen["age_a"] <= gen["age_b"]).all()
    assert (gen["age_gap"] == gen["age_b"] - gen["age_a"]).all()
    assert not gen[["image_a", "image_b"]].duplicated().any()


def test_genuine_cap_per_person_is_seeded_counted_and_matched(clean):
    from faceage.pairs import pair_summary

    full = genuine_pairs(clean)
    per_person = full.groupby("person_a").size()
    cap = 20  # persons of 7 and 8 images have 21 and 28 pairs; those of 6 have 15
    capped = genuine_pairs(clean, max_per_person=cap, seed=3)
    kept = capped.groupby("person_a").size()
    assert (kept == per_person.clip(upper=cap)).all()
    left = capped.attrs["capped_left_out"]
    assert sum(left.values()) == len(full) - len(capped) > 0
    assert capped.attrs["capped_persons"] == int((per_person > cap).sum())
    # kept pairs are real pairs of the full set; left-out counts per gap add up
    keys = set(zip(full["image_a"], full["image_b"], strict=True))
    assert set(zip(capped["image_a"], capped["image_b"], strict=True)) <= keys
    gaps = full["age_gap"].value_counts().sub(capped["age_gap"].value_counts(), fill_value=0)
    assert {int(g): int(n) for g, n in gaps[gaps > 0].items()} == left
    # seeded: same seed same pairs, another seed other pairs
    again = genuine_pairs(clean, max_per_person=cap, seed=3)
    pd.testing.assert_frame_equal(capped, again)
    assert not capped.equals(genuine_pairs(clean, max_per_person=cap, seed=4))
    # through make_pairs: impostors match the kept genuine pairs, the summary says what left
    pairs = make_pairs(clean, max_genuine_per_person=cap, seed=3, folds=None)
    assert (pairs["genuine"] == 1).sum() == len(capped)
    summary = pair_summary(pairs)
    assert summary["capped_left_out"].sum() == len(full) - len(capped)
    uncapped = make_pairs(clean, seed=3, folds=None)
    assert pair_summary(uncapped)["capped_left_out"].sum() == 0
    assert (uncapped["genuine"] == 1).sum() == len(full)


def test_impostors_match_gap_distribution_and_are_cross_person(clean):
    gen = genuine_pairs(clean)
    imp = impostor_pairs(clean, gen, ratio=1.0, seed=1)
    assert (imp["person_a"] != imp["person_b"]).all()
    g = gen["age_gap"].value_counts().sort_index()
    i = imp["age_gap"].value_counts().reindex(g.index, fill_value=0)
    # every gap gets as many impostors as genuine pairs unless the data hold fewer
    assert (i <= g).all() and i.sum() >= 0.95 * g.sum()
    keys = set(zip(imp["image_a"], imp["image_b"], strict=True))
    assert len(keys) == len(imp)  # distinct pairs


def test_impostor_ratio_and_seed(clean):
    gen = genuine_pairs(clean)
    a = impostor_pairs(clean, gen, ratio=2.0, seed=5)
    b = impostor_pairs(clean, gen, ratio=2.0, seed=5)
    c = impostor_pairs(clean, gen, ratio=2.0, seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert len(a) > 1.8 * len(gen)


def test_make_pairs_ids_and_modes(clean):
    p = make_pairs(clean, mode="all")
    n = len(clean)
    assert (p["genuine"] == 0).sum() == comb(n, 2) - (p["genuine"] == 1).sum()
    assert p["pair_id"].tolist() == list(range(len(p)))
    assert p["genuine"].is_monotonic_decreasing  # genuine block first
    none = make_pairs(clean, mode="none")
    assert (none["genuine"] == 1).all()


def test_small_pool_enumerated():
    # two persons, ages that allow exactly one impostor pair per gap
    clean = pd.DataFrame(
        {
            "image_id": ["a1", "a2", "b1", "b2"],
            "person": ["a", "a", "b", "b"],
            "age": [10, 20, 10, 20],
        }
    )
    p = make_pairs(clean, ratio=5.0)
    imp = p[p["genuine"] == 0]
    assert sorted(zip(imp["image_a"], imp["image_b"], strict=True)) == [("a1", "b2"), ("b1", "a2")]


def _sample_one_at_a_time(ages, persons, by_age, gap, want, rng, max_rounds=60):
    """The sampler's definition, one draw and one check at a time (the large-pool branch)."""
    starts = [a for a in by_age if (a + gap) in by_age]
    cand = np.concatenate([by_age[a] for a in starts])
    weights = np.concatenate([np.full(len(by_age[a]), len(by_age[a + gap]), float) for a in starts])
    p = weights / weights.sum()
    seen, out = set(), []
    for _ in range(max_rounds):
        need = want - len(out)
        if need <= 0:
            break
        i = rng.choice(cand, size=int(need * 1.5) + 16, p=p)
        j = [by_age[int(ages[k]) + gap][rng.integers(len(by_age[int(ages[k]) + gap]))] for k in i]
        for a, b in zip(i.tolist(), j, strict=True):
            if persons[a] == persons[b] or a == b:
                continue
            key = (min(a, b), max(a, b)) if gap == 0 else (a, int(b))
            if key not in seen:
                seen.add(key)
                out.append(key)
                if len(out) >= want:
                    break
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def test_vectorised_impostor_draws_equal_drawing_one_at_a_time():
    from faceage.pair_sampling import _sample_gap

    rng = np.random.default_rng(4)
    persons = np.repeat(np.array([f"p{k}" for k in range(40)], dtype=object), 12)
    ages = rng.integers(0, 30, len(persons))
    by_age = {int(a): np.flatnonzero(ages == a) for a in np.unique(ages)}
    for gap, want in ((0, 300), (3, 500), (11, 200), (25, 40)):
        got = _sample_gap(ages, persons, by_age, gap, want, np.random.default_rng(gap))
        ref = _sample_one_at_a_time(ages, persons, by_age, gap, want, np.random.default_rng(gap))
        assert len(got) == want
        np.testing.assert_array_equal(got, ref)
