"""Ageing model: how genuine similarity falls with the time between two images.

Following Best-Rowden & Jain (2015), the genuine score of a pair is modelled
as a linear function of the elapsed time (the age gap, years) with a random
intercept and a random slope per person (statsmodels ``MixedLM``, REML)::

    similarity_ij = (b0 + u0_i) + (b1 + u1_i) * age_gap_ij + e_ij

``b1`` (the population slope, change in cosine similarity per year) is the
headline: negative means the model's same-person scores fall as people age.
Its 95 % interval is the Wald interval of the fit. The gap is fitted in
decades for numerical stability and reported per year and per decade.

Caveat: pairs of one person share images, so their residuals are not
independent; the random effects absorb the person-level part of this, not
the image-level part, so the interval is somewhat too narrow. The
subject-level bootstrap of the verification metrics does not have this
problem.

When the random-slope model cannot be fitted (fewer than 3 persons seen at
two or more gaps, or no optimiser converges) the random-intercept model is
fitted instead and ``random_slope`` in the output says so. Optimiser
warnings (e.g. a variance on the boundary) are kept in ``warnings``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

GAP_UNIT = 10.0  # the model is fitted with the gap in decades

AGEING_COLUMNS = [
    "model",
    "n_pairs",
    "n_persons",
    "random_slope",
    "converged",
    "method",
    "slope_per_year",
    "slope_per_year_lo",
    "slope_per_year_hi",
    "slope_p",
    "slope_per_decade",
    "intercept",
    "intercept_lo",
    "intercept_hi",
    "sd_person_intercept",
    "sd_person_slope_per_year",
    "corr_intercept_slope",
    "sd_residual",
    "impostor_mean",
    "impostor_q99",
    "cov_intercept_intercept",
    "cov_intercept_slope",
    "cov_slope_slope",
    "warnings",
    "n_pairs_fitted",
    "n_persons_fitted",
]


def genuine_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Scored genuine pairs as (person, age_gap in years, similarity)."""
    g = scores[(scores["genuine"] == 1) & scores["similarity"].notna() & scores["age_gap"].notna()]
    return pd.DataFrame(
        {
            "person": g["person_a"].astype(str).to_numpy(),
            "age_gap": g["age_gap"].to_numpy(dtype=float),
            "similarity": g["similarity"].to_numpy(dtype=float),
        }
    )


def _fit(data: pd.DataFrame, random_slope: bool):
    import statsmodels.formula.api as smf

    re = "~gap" if random_slope else "~1"
    model = smf.mixedlm("similarity ~ gap", data, groups=data["person"], re_formula=re)
    last_exc = None
    for method in ("lbfgs", "powell", "nm"):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fit = model.fit(reml=True, method=method)
            if np.all(np.isfinite(fit.bse_fe)):
                return fit, method, [str(w.message).splitlines()[0] for w in caught]
        except (np.linalg.LinAlgError, ValueError) as exc:
            last_exc = exc
    raise RuntimeError(f"mixed model did not fit with any optimiser: {last_exc}")


def person_sample(data: pd.DataFrame, max_pairs: int, seed: int = 0) -> pd.DataFrame:
    """Every pair of persons drawn at random (seeded) until ``max_pairs`` genuine pairs are
    reached: whole persons, so each person's intercept and slope stay estimable."""
    if len(data) <= max_pairs:
        return data
    sizes = data.groupby("person", sort=True).size()
    order = np.random.default_rng(seed).permutation(len(sizes))
    cum = np.cumsum(sizes.to_numpy()[order])
    chosen = sizes.index[order[: int(np.searchsorted(cum, max_pairs)) + 1]]
    return data[data["person"].isin(chosen)]


def fit_ageing_model(
    scores: pd.DataFrame, confidence: float = 0.95, max_pairs: int | None = None, seed: int = 0
) -> dict:
    """Fit the mixed model to one model's scores; return the headline figures as a dict.

    Keys: see :data:`AGEING_COLUMNS` (``model`` is left for the caller).
    ``cov_*`` is the covariance of (intercept, slope per year) for the
    population line's confidence band. ``max_pairs``: above this many genuine pairs the model is
    fitted on a person sample (:func:`person_sample`); ``n_pairs``/``n_persons`` count them all,
    ``n_pairs_fitted``/``n_persons_fitted`` what the fit used.
    """
    full = genuine_table(scores)
    data = full if max_pairs is None else person_sample(full, max_pairs, seed)
    imp = scores.loc[
        (scores["genuine"] == 0) & scores["similarity"].notna(), "similarity"
    ].to_numpy(dtype=float)
    out: dict = {
        "n_pairs": len(full),
        "n_persons": int(full["person"].nunique()),
        "n_pairs_fitted": len(data),
        "n_persons_fitted": int(data["person"].nunique()),
        "impostor_mean": float(imp.mean()) if len(imp) else np.nan,
        "impostor_q99": float(np.quantile(imp, 0.99)) if len(imp) else np.nan,
    }
    if len(data) < 3 or data["person"].nunique() < 2 or data["age_gap"].nunique() < 2:
        out.update(
            {"random_slope": False, "converged": False, "warnings": "too few genuine pairs or gaps"}
        )
        return out
    data = data.assign(gap=data["age_gap"] / GAP_UNIT)
    # a random slope needs persons seen at several gaps
    gaps_per_person = data.groupby("person")["gap"].nunique()
    random_slope = int((gaps_per_person >= 2).sum()) >= 3
    msgs: list[str] = []
    try:
        fit, method, msgs = _fit(data, random_slope)
    except RuntimeError:
        if not random_slope:
            raise
        fit, method, msgs = _fit(data, False)
        msgs = ["random-slope model failed; random-intercept model reported"] + msgs
        random_slope = False
    z = _z(confidence)
    b0, b1 = float(fit.fe_params["Intercept"]), float(fit.fe_params["gap"])
    se0, se1 = float(fit.bse_fe["Intercept"]), float(fit.bse_fe["gap"])
    cov = fit.cov_params().loc[["Intercept", "gap"], ["Intercept", "gap"]].to_numpy()
    re_cov = np.asarray(fit.cov_re)
    out.update(
        {
            "random_slope": bool(random_slope),
            "converged": bool(fit.converged),
            "method": method,
            "slope_per_year": b1 / GAP_UNIT,
            "slope_per_year_lo": (b1 - z * se1) / GAP_UNIT,
            "slope_per_year_hi": (b1 + z * se1) / GAP_UNIT,
            "slope_p": float(fit.pvalues["gap"]),
            "slope_per_decade": b1,
            "intercept": b0,
            "intercept_lo": b0 - z * se0,
            "intercept_hi": b0 + z * se0,
            "sd_person_intercept": float(np.sqrt(max(re_cov[0, 0], 0.0))),
            "sd_person_slope_per_year": float(np.sqrt(max(re_cov[1, 1], 0.0))) / GAP_UNIT
            if random_slope
            else 0.0,
            "corr_intercept_slope": float(re_cov[0, 1] / np.sqrt(re_cov[0, 0] * re_cov[1, 1]))
            if random_slope and re_cov[0, 0] > 0 and re_cov[1, 1] > 0
            else np.nan,
            "sd_residual": float(np.sqrt(fit.scale)),
            "cov_intercept_intercept": float(cov[0, 0]),
            "cov_intercept_slope": float(cov[0, 1]) / GAP_UNIT,
            "cov_slope_slope": float(cov[1, 1]) / GAP_UNIT**2,
            "warnings": "; ".join(dict.fromkeys(msgs)),
        }
    )
    return out


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def population_line(result: dict, gaps: np.ndarray, confidence: float = 0.95) -> pd.DataFrame:
    """Predicted mean genuine similarity at ``gaps`` (years) with its confidence band."""
    gaps = np.asarray(gaps, dtype=float)
    mean = result["intercept"] + result["slope_per_year"] * gaps
    var = (
        result["cov_intercept_intercept"]
        + 2 * gaps * result["cov_intercept_slope"]
        + gaps**2 * result["cov_slope_slope"]
    )
    half = _z(confidence) * np.sqrt(np.maximum(var, 0))
    return pd.DataFrame({"age_gap": gaps, "mean": mean, "lo": mean - half, "hi": mean + half})
