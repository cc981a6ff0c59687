"""The original study's tables against hand-computed values."""

import numpy as np
import pandas as pd
import pytest

from faceage.analysis.similarity import between_ranges_table, by_gap_table, within_range_table

RANGES = ["0-10", "11-20", "21+"]


@pytest.fixture
def scores():
    s = pd.DataFrame(
        {
            "genuine": [1, 1, 1, 1, 1, 0, 0],
            "age_gap": [2, 4, 15, 3, 30, 2, 15],
            "range_a": ["0-10", "0-10", "0-10", "11-20", "0-10", "0-10", "0-10"],
            "range_b": ["0-10", "0-10", "11-20", "11-20", "21+", "0-10", "11-20"],
            "similarity": [0.9, 0.7, 0.5, 0.8, np.nan, 0.1, 0.3],
        }
    )
    return {"m1": s, "m2": s.assign(similarity=s["similarity"] / 2)}


def test_within_range(scores):
    t = within_range_table(scores, RANGES).set_index("age_range")
    assert t.loc["0-10", "m1_mean"] == pytest.approx(0.8)
    assert t.loc["0-10", "m1_std"] == pytest.approx(np.std([0.9, 0.7], ddof=1))
    assert t.loc["0-10", "m1_n"] == 2
    assert t.loc["0-10", "m1_impostor_mean"] == pytest.approx(0.1)
    assert t.loc["11-20", "m1_n"] == 1 and np.isnan(t.loc["11-20", "m1_std"])
    assert t.loc["0-10", "m2_mean"] == pytest.approx(0.4)
    assert list(t.index) == ["0-10", "11-20"]


def test_between_ranges(scores):
    t = between_ranges_table(scores, RANGES).set_index(["range_a", "range_b"])
    assert t.loc[("0-10", "11-20"), "m1_mean"] == pytest.approx(0.5)
    assert t.loc[("0-10", "21+"), "m1_n"] == 0 and t.loc[("0-10", "21+"), "m1_n_unscored"] == 1
    assert list(t.index)[:2] == [("0-10", "0-10"), ("0-10", "11-20")]


def test_by_gap(scores):
    t = by_gap_table(scores)
    row = t[(t["model"] == "m1") & (t["pairs"] == "impostor") & (t["age_gap"] == 15)]
    assert row["mean"].item() == pytest.approx(0.3) and row["n"].item() == 1
    assert set(t["model"]) == {"m1", "m2"}
