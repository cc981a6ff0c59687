"""Model comparison: one row per model with every headline figure.

Columns, per model:

* ``pairs``: ``common`` when the figures are on the pairs every model scored
  (then ``n_unscored``, ``n_dropped_by_others`` and ``n_common`` say what each model lost;
  :func:`with_pair_counts`), ``own`` when each model is on its own scored pairs;
* overall, on the ROC impostors (the impostor pairs of the pairs table, metrics.tsv's
  ``roc_impostors``): ``n_genuine``, ``n_impostor``, ``auc`` with ``auc_lo``/``auc_hi``,
  ``eer`` (+ interval), ``roc_fnmr_at_fmr_<f>`` (+ interval) for every
  ``verification.fmr_levels`` level, ``acc_mean``/``acc_std`` (insightface 10-fold);
* overall, at fixed FMR on the operating impostor pool: ``fnmr_at_fmr_<f>`` (+ interval) for
  every ``verification.fmr_levels`` level, and ``n_operating_impostors``, the pool pairs it
  rests on;
* per age-gap bin ``<bin>``: ``auc_gap_<bin>`` (+ ``_lo``/``_hi``),
  ``acc_gap_<bin>``, ``roc_fnmr_at_fmr_<f>_gap_<bin>`` for the largest FMR level (on the bin's
  ROC impostors) and ``fnmr_at_fmr_<f>_gap_<bin>`` (+ interval; on the pool) for every FMR level;
* ageing model: ``slope_per_decade`` (+ interval, per decade for
  readability), ``random_slope``;
* age probe: ``probe_mae``, ``probe_r2``, ``probe_mae_median_baseline``;
* protocols (when run): ``<protocol>_accuracy`` and ``_std``.

Empty cells mean "not estimable" or "not computed"; the per-model tables
say why (``notes``, ``warnings``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from faceage.analysis.bootstrap import roc_key
from faceage.analysis.operating import fmr_key
from faceage.analysis.verification import COUNT_COLUMNS, ROC_COLUMNS

# comparison.tsv's counts of a model's overall row: metrics.tsv's, but for the genuine persons.
OVERALL_COUNTS = [c for c in COUNT_COLUMNS if c != "n_genuine_persons"]


def model_row(
    metrics: pd.DataFrame,
    ageing: pd.DataFrame | None = None,
    probe: pd.DataFrame | None = None,
    protocols: Sequence[pd.DataFrame] = (),
    fmr_levels: Sequence[float] = (),
) -> dict:
    """One model's headline figures from its verification / ageing / probe / protocol tables;
    FNMR at each of ``fmr_levels`` (the levels the metrics were made with:
    ``verification.fmr_levels``) on the ROC impostors (``roc_fnmr_at_fmr_<f>``) and on the
    operating pool (``fnmr_at_fmr_<f>``)."""
    row: dict = {}
    overall = metrics[metrics["subset"] == "all"]
    rocs = [roc_key(float(f)) for f in fmr_levels]
    fmrs = [fmr_key(float(f)) for f in fmr_levels]
    if len(overall):
        o = overall.iloc[0]
        if "model" in metrics.columns:
            row["model"] = o["model"]
        for c in [*OVERALL_COUNTS, *ROC_COLUMNS]:
            row[c] = o.get(c)
        for f in rocs:
            row[f], row[f + "_lo"], row[f + "_hi"] = o.get(f), o.get(f + "_lo"), o.get(f + "_hi")
        row["acc_mean"], row["acc_std"] = o.get("acc_mean"), o.get("acc_std")
        for f in fmrs:
            row[f], row[f + "_lo"], row[f + "_hi"] = o.get(f), o.get(f + "_lo"), o.get(f + "_hi")
        if "n_operating_impostors" in metrics.columns:
            row["n_operating_impostors"] = o.get("n_operating_impostors")
    gap = metrics[metrics["subset"] == "gap_bin"]
    top = roc_key(max(float(f) for f in fmr_levels)) if fmr_levels else None
    for _, r in gap.iterrows():
        b = r["label"]
        row[f"n_genuine_gap_{b}"] = r["n_genuine"]
        row[f"auc_gap_{b}"], row[f"auc_gap_{b}_lo"], row[f"auc_gap_{b}_hi"] = (
            r["auc"],
            r["auc_lo"],
            r["auc_hi"],
        )
        row[f"acc_gap_{b}"] = r["acc_mean"]
        if top:
            row[f"{top}_gap_{b}"] = r[top]
        for f in fmrs:
            row[f"{f}_gap_{b}"] = r[f]
            row[f"{f}_gap_{b}_lo"], row[f"{f}_gap_{b}_hi"] = r[f + "_lo"], r[f + "_hi"]
    if ageing is not None and len(ageing):
        row.update(ageing_figures(ageing.iloc[0]))
    if probe is not None and len(probe):
        p = probe.iloc[0]
        row["probe_mae"], row["probe_r2"] = p.get("mae"), p.get("r2")
        row["probe_mae_median_baseline"] = p.get("mae_median_baseline")
    for prot in protocols:
        for _, r in prot.iterrows():
            name = r["protocol"]
            row[f"{name}_accuracy"], row[f"{name}_std"] = r["accuracy"], r["accuracy_std"]
            row[f"{name}_unscored"] = r.get("n_unscored")
    return row


def ageing_figures(a: pd.Series) -> dict:
    """The ageing model's headline figures from one ``ageing.tsv`` row: ``slope_per_decade``
    with its 95 % interval (the per-year Wald interval in decades), ``slope_p`` and
    ``random_slope`` (the comparison table and the study summary both take them from here)."""
    return {
        "slope_per_decade": a.get("slope_per_decade"),
        "slope_per_decade_lo": _times(a.get("slope_per_year_lo"), 10),
        "slope_per_decade_hi": _times(a.get("slope_per_year_hi"), 10),
        "slope_p": a.get("slope_p"),
        "random_slope": a.get("random_slope"),
    }


def _times(v, k):
    try:
        return float(v) * k
    except (TypeError, ValueError):
        return np.nan


def compare_models(
    metrics: dict[str, pd.DataFrame],
    ageing: dict[str, pd.DataFrame] | None = None,
    probe: dict[str, pd.DataFrame] | None = None,
    protocols: dict[str, Sequence[pd.DataFrame]] | None = None,
    fmr_levels: Sequence[float] = (),
) -> pd.DataFrame:
    """The comparison table: one row per model (in the order of ``metrics``); the levels as
    in :func:`model_row`."""
    rows = []
    for model, m in metrics.items():
        row = model_row(
            m,
            (ageing or {}).get(model),
            (probe or {}).get(model),
            (protocols or {}).get(model, ()),
            fmr_levels,
        )
        row["model"] = model
        rows.append(row)
    df = pd.DataFrame(rows)
    return df[["model"] + [c for c in df.columns if c != "model"]]


COUNT_COLUMNS = ["n_unscored", "n_dropped_by_others", "n_common"]


def with_pair_counts(table: pd.DataFrame, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Say which pairs the figures rest on: ``pairs`` (``common`` or ``own``) after ``model``.

    With ``counts`` (the common-pairs table, one row per model) the figures are on the common
    pairs and the table gains, per model, ``n_unscored`` (pairs it could not score),
    ``n_dropped_by_others`` (pairs it scored that left because another model could not) and
    ``n_common``.
    """
    out = table.copy()
    out.insert(1, "pairs", "own" if counts is None else "common")
    if counts is not None:
        by = counts.set_index("model")
        for k, col in enumerate(COUNT_COLUMNS):
            values = out["model"].map(by[col]).to_numpy()
            if col in out.columns:
                out[col] = values
            else:
                out.insert(2 + k, col, values)
    return out


def read_result(path: str | os.PathLike) -> pd.DataFrame:
    """Read one of this stage's TSV outputs (numbers as numbers, labels as text)."""
    return pd.read_csv(
        path,
        sep="\t",
        dtype={
            "label": str,
            "gap_bin": str,
            "range_a": str,
            "range_b": str,
            "model": str,
            "protocol": str,
            "notes": str,
        },
    )
