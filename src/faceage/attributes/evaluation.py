"""How good are an estimator's ages and genders: tables from ``predictions.tsv``.

Conventions: errors are ``age_pred - age`` in years (positive = the
estimator thinks the face is older than labelled); MAE is the mean absolute
error; bias the mean signed error; CS@t (cumulative score) the fraction of
faces with ``|error| <= t`` years. Age groups come from ``age_bins``: left
edges in years, each group ``[edge, next edge)``, the last one open
(``[0, 10, 20]`` -> ``0-9``, ``10-19``, ``20+``). Labelled ages below the
first edge fall in no group. Only rows with a prediction count; the
``coverage`` columns say how many had none (no face, unreadable).

Optional balancing before the tables, as the source projects did: keep ages
in ``[age_min, age_max]``, then at most ``cap_per_bin`` images per age
group (a seeded random sample, so reruns agree).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from faceage.bins import bin_labels, bin_of

DEFAULT_AGE_BINS = [0, 10, 20, 30, 40, 50, 60, 70, 80]
AGE_TABLE_COLUMNS = ["group", "n", "mae", "median_ae", "bias", "cs5", "rmse"]
GENDER_TABLE_COLUMNS = [
    "group",
    "n",
    "accuracy",
    "true_F_pred_F",
    "true_F_pred_M",
    "true_M_pred_F",
    "true_M_pred_M",
    "female_recall",
    "male_recall",
]
SUMMARY_KEYS = [
    "estimator",
    "images",
    "predicted",
    "age_n",
    "mae",
    "mae_lo",
    "mae_hi",
    "bias",
    "cs5",
    "gender_n",
    "gender_accuracy",
    "gender_accuracy_lo",
    "gender_accuracy_hi",
    "images_per_second",
]
# The intervals of the summary: 95 % percentile intervals of a person-level bootstrap (persons
# resampled with all their images, as the verification figures' are), seeded.
BOOTSTRAP_ITERATIONS = 1000
BOOTSTRAP_SEED = 0


def group_labels(edges: list[int]) -> list[str]:
    """Labels of the age groups whose left edges are ``edges`` (:func:`faceage.bins.bin_labels`)."""
    return bin_labels(edges)


def age_group(age: pd.Series, edges: list[int]) -> pd.Series:
    """The age-group label of each age (years); NA below the first edge or when unknown."""
    values = pd.to_numeric(age, errors="coerce").astype("float64")
    return pd.Series(bin_of(values.to_numpy(), edges), index=age.index).astype("string")


def balance(
    df: pd.DataFrame, edges: list[int], age_min=None, age_max=None, cap_per_bin=None, seed: int = 0
) -> pd.DataFrame:
    """Rows with ``age_min <= age <= age_max``, at most ``cap_per_bin`` per age group."""
    out = df.copy()
    age = pd.to_numeric(out["age"], errors="coerce").astype("float64")
    keep = pd.Series(True, index=out.index)
    if age_min is not None:
        keep &= age >= float(age_min)
    if age_max is not None:
        keep &= age <= float(age_max)
    out = out[keep.fillna(False)]
    if cap_per_bin:
        groups = age_group(out["age"], edges).fillna("none")
        parts = [
            g.sample(n=min(len(g), int(cap_per_bin)), random_state=seed)
            for _, g in out.groupby(groups, sort=True)
        ]
        out = pd.concat(parts) if parts else out.iloc[:0]
    return out.sort_index()


def _age_rows(err: np.ndarray, group: str, cs: float) -> dict:
    if len(err) == 0:
        return {
            "group": group,
            "n": 0,
            "mae": np.nan,
            "median_ae": np.nan,
            "bias": np.nan,
            "cs5": np.nan,
            "rmse": np.nan,
        }
    a = np.abs(err)
    return {
        "group": group,
        "n": len(err),
        "mae": a.mean(),
        "median_ae": float(np.median(a)),
        "bias": err.mean(),
        "cs5": float((a <= cs).mean()),
        "rmse": float(np.sqrt((err**2).mean())),
    }


def _age_frame(pred: pd.DataFrame) -> pd.DataFrame:
    age = pd.to_numeric(pred["age"], errors="coerce").astype("float64")
    age_pred = pd.to_numeric(pred["age_pred"], errors="coerce").astype("float64")
    ok = age.notna() & age_pred.notna()
    return pd.DataFrame({"age": age[ok], "err": (age_pred - age)[ok]})


def age_table(
    pred: pd.DataFrame, edges: list[int] = DEFAULT_AGE_BINS, cs: float = 5.0
) -> pd.DataFrame:
    """MAE, median AE, bias, CS@cs and RMSE overall (``all``) and per age group (by label)."""
    f = _age_frame(pred)
    rows = [_age_rows(f["err"].to_numpy(), "all", cs)]
    groups = age_group(f["age"], edges)
    for label in group_labels(edges):
        rows.append(_age_rows(f["err"][groups == label].to_numpy(), label, cs))
    return pd.DataFrame(rows, columns=AGE_TABLE_COLUMNS)


def _gender_row(t: pd.Series, p: pd.Series, group: str) -> dict:
    row = {"group": group, "n": len(t)}
    for a in ("F", "M"):
        for b in ("F", "M"):
            row[f"true_{a}_pred_{b}"] = int(((t == a) & (p == b)).sum())
    row["accuracy"] = float((t == p).mean()) if len(t) else np.nan
    nf, nm = int((t == "F").sum()), int((t == "M").sum())
    row["female_recall"] = row["true_F_pred_F"] / nf if nf else np.nan
    row["male_recall"] = row["true_M_pred_M"] / nm if nm else np.nan
    return row


def _gender_frame(pred: pd.DataFrame) -> pd.DataFrame:
    ok = pred["gender"].isin(["M", "F"]) & pred["gender_pred"].isin(["M", "F"])
    return pred.loc[ok, ["age", "gender", "gender_pred"]].astype(
        {"gender": str, "gender_pred": str}
    )


def gender_table(pred: pd.DataFrame, edges: list[int] = DEFAULT_AGE_BINS) -> pd.DataFrame:
    """Gender accuracy and the confusion counts overall and per age group (by labelled age)."""
    f = _gender_frame(pred)
    rows = [_gender_row(f["gender"], f["gender_pred"], "all")]
    groups = age_group(f["age"], edges)
    for label in group_labels(edges):
        sel = (groups == label).fillna(False)
        rows.append(_gender_row(f["gender"][sel], f["gender_pred"][sel], label))
    return pd.DataFrame(rows, columns=GENDER_TABLE_COLUMNS)


def gender_confusion(pred: pd.DataFrame) -> pd.DataFrame:
    """2x2 confusion matrix: rows the labelled gender, columns the predicted one (counts)."""
    f = _gender_frame(pred)
    m = pd.crosstab(f["gender"], f["gender_pred"]).reindex(
        index=["F", "M"], columns=["F", "M"], fill_value=0
    )
    m.index.name = "true"
    return m.reset_index().rename(columns={"F": "pred_F", "M": "pred_M"})


def person_bootstrap(
    person: pd.Series, value: np.ndarray, iterations: int = BOOTSTRAP_ITERATIONS, seed: int = 0
) -> tuple[float, float]:
    """95 % percentile interval of the mean of ``value`` over images, persons resampled with
    all their images (each image its own person where ``person`` is empty); (nan, nan) with
    fewer than two persons."""
    names = person.fillna("").astype(str).to_numpy()
    own = np.char.add("\0image", np.arange(len(names)).astype(str))  # never a person's name
    codes, uniq = pd.factorize(np.where(names == "", own, names))
    if len(uniq) < 2:
        return np.nan, np.nan
    sums = np.bincount(codes, weights=np.asarray(value, dtype=float), minlength=len(uniq))
    counts = np.bincount(codes, minlength=len(uniq)).astype(float)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(uniq), np.full(len(uniq), 1 / len(uniq)), size=iterations)
    from faceage.analysis.intervals import percentile_interval

    interval = percentile_interval((draws @ sums) / (draws @ counts))
    return interval.lo, interval.hi


def summary(pred: pd.DataFrame, timing: dict | None, estimator: str, cs: float = 5.0) -> dict:
    """One line per estimator and dataset: coverage, MAE, bias, CS@5, gender accuracy (MAE and
    gender accuracy with their person-level bootstrap intervals), images/s."""
    f = _age_frame(pred)
    g = _gender_frame(pred)
    a = _age_rows(f["err"].to_numpy(), "all", cs)
    person = pred["person"] if "person" in pred else pd.Series("", index=pred.index)
    mae_lo, mae_hi = person_bootstrap(
        person[f.index], np.abs(f["err"].to_numpy()), seed=BOOTSTRAP_SEED
    )
    correct = (g["gender"] == g["gender_pred"]).to_numpy(dtype=float)
    acc_lo, acc_hi = person_bootstrap(person[g.index], correct, seed=BOOTSTRAP_SEED)
    return {
        "estimator": estimator,
        "images": len(pred),
        "predicted": int(pd.to_numeric(pred["age_pred"], errors="coerce").notna().sum()),
        "age_n": a["n"],
        "mae": a["mae"],
        "mae_lo": mae_lo,
        "mae_hi": mae_hi,
        "bias": a["bias"],
        "cs5": a["cs5"],
        "gender_n": len(g),
        "gender_accuracy": float(correct.mean()) if len(g) else np.nan,
        "gender_accuracy_lo": acc_lo,
        "gender_accuracy_hi": acc_hi,
        "images_per_second": (timing or {}).get("images_per_second"),
    }


def stack_summaries(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Per-estimator summary tables (``summary.tsv``) stacked into one."""
    if not frames:
        return pd.DataFrame(columns=SUMMARY_KEYS)
    return pd.concat(frames, ignore_index=True)
