"""Age probe: how much age information is left in a model's embeddings.

A linear probe: ridge regression from the embedding (L2-normalised, as
cosine similarity sees it, then standardised) to age in years. Evaluated with
person-grouped cross-validation (``GroupKFold``: no person is in a training
and a test fold at once, so the probe cannot recognise a face it has seen);
the ridge penalty is chosen inside each training fold by a second, also
person-grouped, cross-validation. Reported on the pooled out-of-fold
predictions: MAE (years) and R^2; plus the MAE of always predicting the
training fold's median age, so the MAE has a yardstick.

Reading: R^2 near 0 means the embedding carries (linearly) no more age
information than the age distribution itself; a more age-invariant model
leaves less age to find. A non-linear probe could find more, so this is a
lower bound on the age information present.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)
PROBE_COLUMNS = [
    "model",
    "n_images",
    "n_persons",
    "n_folds",
    "mae",
    "mae_fold_std",
    "r2",
    "mae_median_baseline",
    "alpha_median",
    "age_mean",
    "age_sd",
]


def probe_data(emb: dict[str, np.ndarray], manifest: pd.DataFrame):
    """(X unit vectors, age, person) for images with a vector and a known age."""
    ids = pd.Series(emb["image_id"].astype(str))
    vec = np.asarray(emb["vectors"], dtype=np.float64)
    ok_vec = (
        np.isfinite(vec).all(axis=1) & (np.linalg.norm(vec, axis=1) > 0)
        if vec.size
        else np.zeros(len(ids), bool)
    )
    m = manifest[["image_id", "person", "age"]].copy()
    m["image_id"] = m["image_id"].astype(str)
    m = m.dropna(subset=["age"]).drop_duplicates("image_id").set_index("image_id")
    has = ids.isin(m.index).to_numpy() & ok_vec
    x = vec[has]
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    meta = m.loc[ids[has]]
    return x, meta["age"].to_numpy(dtype=float), meta["person"].astype(str).to_numpy()


def age_probe(
    x: np.ndarray, age: np.ndarray, person: np.ndarray, n_folds: int = 5, alphas=ALPHAS
) -> dict:
    """Person-grouped cross-validated ridge probe; see the module docstring."""
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_absolute_error, r2_score
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_persons = len(np.unique(person))
    out = {
        "n_images": int(len(age)),
        "n_persons": int(n_persons),
        "age_mean": float(np.mean(age)) if len(age) else np.nan,
        "age_sd": float(np.std(age, ddof=1)) if len(age) > 1 else np.nan,
    }
    k = min(n_folds, n_persons)
    if k < 2 or len(age) < 4:
        out.update(
            {
                "n_folds": 0,
                "mae": np.nan,
                "r2": np.nan,
                "mae_fold_std": np.nan,
                "mae_median_baseline": np.nan,
                "alpha_median": np.nan,
            }
        )
        return out
    pred = np.full(len(age), np.nan)
    base = np.full(len(age), np.nan)
    fold_mae, chosen = [], []
    for train, test in GroupKFold(n_splits=k).split(x, age, person):
        inner_k = min(3, len(np.unique(person[train])))
        model = make_pipeline(StandardScaler(), Ridge())
        if inner_k >= 2:
            search = GridSearchCV(
                model,
                {"ridge__alpha": list(alphas)},
                cv=GroupKFold(n_splits=inner_k),
                scoring="neg_mean_absolute_error",
            )
            search.fit(x[train], age[train], groups=person[train])
            fitted, alpha = search.best_estimator_, search.best_params_["ridge__alpha"]
        else:
            alpha = float(np.median(alphas))
            fitted = model.set_params(ridge__alpha=alpha).fit(x[train], age[train])
        pred[test] = fitted.predict(x[test])
        base[test] = np.median(age[train])
        fold_mae.append(mean_absolute_error(age[test], pred[test]))
        chosen.append(alpha)
    out.update(
        {
            "n_folds": k,
            "mae": float(mean_absolute_error(age, pred)),
            "mae_fold_std": float(np.std(fold_mae)),
            "r2": float(r2_score(age, pred)),
            "mae_median_baseline": float(mean_absolute_error(age, base)),
            "alpha_median": float(np.median(chosen)),
        }
    )
    return out
