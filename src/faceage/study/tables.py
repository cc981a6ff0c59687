"""The study's headline tables (:class:`~faceage.study.render.Table`), from the study's TSVs.

* ``overall`` - per dataset and model: AUC, EER, FNMR at the fixed FMR, 10-fold accuracy and
  the ageing slope per decade, each ``value [lo, hi]``;
* ``auc_by_gap``, ``fnmr_by_gap`` - per dataset and model, one column per age-gap bin;
* ``benchmarks`` - the protocol datasets' accuracies beside the published figures;
* ``attributes`` - the age and gender estimators per dataset.

Each caption states the conventions the figures rest on, read from ``conventions.tsv`` (which
pairs, which impostors, which bootstrap, which folds); each footnote line gives the counts.
Digits: :mod:`faceage.study.numbers`.
"""

from __future__ import annotations

import pandas as pd

from faceage.study import numbers as fmt
from faceage.study.render import Table

IMPOSTORS = {
    "same_gap_bin": "the impostor pairs of the same age-gap bin (age-matched)",
    "all": "every impostor pair",
}
BALANCE = {True: "classes balanced per fold", False: "classes as drawn"}
PAIRS = {
    "common": "the pairs every model of the dataset scored",
    "own": "each model's own scored pairs",
}


def _by_value(conv: pd.DataFrame, column: str, say) -> str:
    """One phrase when every dataset agrees, else one per value naming its datasets."""
    groups = conv.groupby(conv[column].astype(str), sort=False)["dataset"]
    values = list(groups)
    if len(values) == 1:
        return say(conv[column].iloc[0])
    return "; ".join(
        f"{say(conv.loc[d.index[0], column])} ({', '.join(dict.fromkeys(d))})" for _, d in values
    )


def conventions_caption(conv: pd.DataFrame, fmr: float | None, slope: bool = False) -> str:
    """The conventions of the verification tables in words, from ``conventions.tsv``: which
    pairs, which impostors, which bootstrap, which folds (with ``fmr``: the operating point;
    with ``slope``: the ageing model)."""
    if conv.empty:
        return ""
    parts = [
        "Figures on " + _by_value(conv, "pairs", lambda v: PAIRS.get(v, str(v))),
        "AUC, EER and accuracy against "
        + _by_value(conv, "impostors", lambda v: IMPOSTORS.get(v, str(v))),
    ]
    if fmr is not None:
        parts.append(
            f"FNMR at FMR = {fmr:g}: the share of genuine pairs below one threshold set on the "
            "operating impostor pool (ISO/IEC 19795-1)"
        )
    parts += [
        "95 % intervals: subject-level bootstrap (persons resampled), "
        + _by_value(conv, "bootstrap_iterations", lambda v: f"{int(v)} iterations")
        + ", seed "
        + _by_value(conv, "seed", lambda v: f"{int(v)}"),
        "Accuracy: insightface's "
        + _by_value(conv, "folds", lambda v: f"{int(v)}-fold")
        + " cross-validation, persons dealt to folds (no person in two folds), "
        + _by_value(conv, "balance_accuracy", lambda v: BALANCE[str(v).lower() == "true"])
        + "; mean ± standard deviation over the folds (the benchmarks' convention; the "
        "summary's acc_lo/acc_hi bootstrap the accuracy at the cross-validated threshold, "
        "another quantity, so they are not printed beside the mean)",
    ]
    if slope:
        parts.append(
            "Ageing slope: change of same-person cosine similarity per decade of age gap "
            "(linear mixed model with a slope per person, 95 % Wald interval)"
        )
    return ". ".join(parts) + "."


def _cells(table: pd.DataFrame, figures: list[tuple[str, str, str]]) -> list[list[str]]:
    cols = [fmt.column(table, *f) for f in figures]
    return [list(row) for row in zip(*cols, strict=True)] if cols else []


def _counts_line(groups: list[tuple[str, list[str], str]]) -> str:
    """``dataset (model, model): counts; ...`` with the models that share their counts merged."""
    merged: dict[tuple[str, str], list[str]] = {}
    for dataset, models, text in groups:
        merged.setdefault((dataset, text), []).extend(models)
    return "; ".join(f"{d} ({', '.join(m)}): {text}" for (d, text), m in merged.items())


def overall_table(summary: pd.DataFrame, conv: pd.DataFrame) -> Table:
    t = summary[summary["subset"] == "all"].reset_index(drop=True)
    fmr = float(t["fmr"].iloc[0]) if len(t) else None
    fmr_head = f"FNMR at\nFMR {fmr:g}" if fmr is not None else "FNMR"
    figures = [
        ("auc", "auc_lo", "auc_hi"),
        ("eer", "eer_lo", "eer_hi"),
        ("fnmr", "fnmr_lo", "fnmr_hi"),
        ("slope_per_decade", "slope_per_decade_lo", "slope_per_decade_hi"),
    ]
    cells = _cells(t, figures)
    accuracy = fmt.column_spread(t, "acc_mean", "acc_std")
    cells = [[*c[:3], acc, c[3]] for c, acc in zip(cells, accuracy, strict=True)]
    rows = [[d, m, *c] for d, m, c in zip(t["dataset"], t["model"], cells, strict=True)]
    counts = [
        (
            r.dataset,
            [r.model],
            f"{fmt.count(r.n_persons)} persons, {fmt.count(r.n_genuine)} genuine and "
            f"{fmt.count(r.n_impostor)} impostor pairs, {fmt.count(r.n_operating_impostors)} "
            f"pool impostor pairs, accuracy on {fmt.count(r.acc_pairs)} pairs in "
            f"{fmt.count(r.acc_folds)} folds, slope on {fmt.count(r.n_ageing_pairs)} genuine pairs",
        )
        for r in t.itertuples()
    ]
    return Table(
        key="overall",
        title="Verification across age gaps, all pairs",
        caption=conventions_caption(conv, fmr, slope=True)
        + f" Values: estimate [95 % interval]; {fmt.MISSING}: not estimable "
        "(the summary's empty column says why).",
        header=["Dataset", "Model", "AUC", "EER", fmr_head, "Accuracy", "Slope per\ndecade"],
        rows=rows,
        align="ll" + "c" * (len(figures) + 1),
        footnote=["Counts - " + _counts_line(counts) + "."] if counts else [],
    )


def by_gap_table(summary: pd.DataFrame, conv: pd.DataFrame, figure: str) -> Table:
    """``figure`` (``auc`` or ``fnmr``) per gap bin: a row per dataset and model."""
    t = summary[summary["subset"] == "gap_bin"].reset_index(drop=True)
    labels = list(dict.fromkeys(t["label"]))
    digits = fmt.decimals(pd.to_numeric(t[f"{figure}_hi"]) - pd.to_numeric(t[f"{figure}_lo"]))
    rows, counts = [], []
    for (d, m), g in t.groupby(["dataset", "model"], sort=False):
        by = g.set_index("label")
        rows.append(
            [d, m]
            + [
                fmt.with_interval(*by.loc[b, [figure, f"{figure}_lo", f"{figure}_hi"]], digits)
                if b in by.index
                else ""
                for b in labels
            ]
        )
        per_bin = ", ".join(
            f"{b} {fmt.count(r.n_genuine)}"
            + (f"/{fmt.count(r.n_impostor)}" if figure == "auc" else "")
            for b, r in zip(g["label"], g.itertuples(), strict=True)
        )
        pool = (
            f"; {fmt.count(g['n_operating_impostors'].iloc[0])} pool impostor pairs"
            if figure == "fnmr"
            else ""
        )
        counts.append((d, [m], per_bin + pool))
    fmr = float(t["fmr"].iloc[0]) if len(t) else None
    what = {"auc": "AUC", "fnmr": f"FNMR at FMR {fmr:g}" if fmr is not None else "FNMR"}[figure]
    pairs = "genuine/impostor pairs per gap bin" if figure == "auc" else "genuine pairs per gap bin"
    return Table(
        key=f"{figure}-by-gap",
        title=f"{what} by age gap (years between the two images)",
        caption=conventions_caption(conv, fmr if figure == "fnmr" else None)
        + f" Values: estimate [95 % interval]; {fmt.MISSING}: not estimable; blank: no such bin.",
        header=["Dataset", "Model", *labels],
        rows=rows,
        align="ll" + "c" * len(labels),
        footnote=[f"Counts ({pairs}) - " + _counts_line(counts) + "."] if counts else [],
    )


def _percent(v, digits=2) -> str:
    return fmt.number(None if pd.isna(v) else 100 * float(v), digits)


def benchmarks_table(bench: pd.DataFrame) -> Table:
    rows = []
    for r in bench.itertuples():
        acc = _percent(r.accuracy)
        if acc != fmt.MISSING and pd.notna(r.accuracy_std):
            acc += f" ± {_percent(r.accuracy_std)}"
        diff = _percent(r.difference)
        rows.append([r.dataset, r.protocol, r.model, acc, _percent(r.published_accuracy), diff])
    counts = [
        f"{r.dataset}/{r.protocol}/{r.model}: {fmt.count(r.n_pairs)} pairs "
        f"({fmt.count(r.n_unscored)} unscored)"
        for r in bench.itertuples()
    ]
    sources = list(dict.fromkeys(s for s in bench["published_source"].fillna("") if s))
    notes = [
        f"{r.model} on {r.protocol}: {r.published_note}"
        for r in bench.itertuples()
        if isinstance(r.published_note, str) and r.published_note
    ]
    footnote = ["Counts - " + "; ".join(counts) + "."]
    if sources:
        footnote.append("Published figures: " + "; ".join(sources) + ".")
    if notes:
        footnote.append("Differences in procedure: " + "; ".join(notes) + ".")
    return Table(
        key="benchmarks",
        title="Standard benchmarks: our accuracy beside the published one",
        caption="10-fold accuracy (%) of each benchmark's own protocol, mean ± population "
        "standard deviation over its folds (insightface verification.py; an unscored pair "
        "counts as an error); published: the figure its source states; difference: "
        f"ours - published, percentage points. {fmt.MISSING}: none.",
        header=[
            "Dataset",
            "Protocol",
            "Model",
            "Accuracy\n(%)",
            "Published\n(%)",
            "Difference\n(points)",
        ],
        rows=rows,
        align="lllccc",
        footnote=footnote,
    )


def attributes_table(attr: pd.DataFrame) -> Table:
    mae = ("mae", "mae_lo", "mae_hi") if {"mae_lo", "mae_hi"} <= set(attr) else None
    acc = ("gender_accuracy", "gender_accuracy_lo", "gender_accuracy_hi")
    rows = []
    mae_cells = fmt.column(attr, *mae) if mae else [fmt.number(v, 2) for v in attr["mae"]]
    acc_cells = (
        fmt.column(attr, *acc)
        if set(acc) <= set(attr)
        else [fmt.number(v, 3) for v in attr["gender_accuracy"]]
    )
    for r, m, a in zip(attr.itertuples(), mae_cells, acc_cells, strict=True):
        rows.append([r.dataset, r.estimator, m, fmt.number(r.bias, 2), fmt.number(r.cs5, 3), a])
    counts = [
        f"{r.dataset}/{r.estimator}: {fmt.count(r.images)} images, {fmt.count(r.predicted)} "
        f"predicted, age on {fmt.count(r.age_n)}, gender on {fmt.count(r.gender_n)}"
        for r in attr.itertuples()
    ]
    return Table(
        key="attributes",
        title="Age and gender estimators",
        caption="Age error = predicted - labelled age in years: MAE (mean absolute error), bias "
        "(mean signed error), CS@5 (share within 5 years); gender accuracy on the faces with a "
        f"labelled and a predicted gender. Only faces with a prediction count. {fmt.MISSING}: "
        "none" + ("; intervals: 95 %." if mae else "."),
        header=[
            "Dataset",
            "Estimator",
            "Age MAE\n(years)",
            "Bias\n(years)",
            "CS@5",
            "Gender\naccuracy",
        ],
        rows=rows,
        align="llcccc",
        footnote=["Counts - " + "; ".join(counts) + "."],
    )


def headline_tables(
    summary: pd.DataFrame, conv: pd.DataFrame, bench: pd.DataFrame, attr: pd.DataFrame
) -> list[Table]:
    """Every headline table that has rows, in the order of the module docstring."""
    out = []
    if len(summary):
        out.append(overall_table(summary, conv))
        if (summary["subset"] == "gap_bin").any():
            out += [by_gap_table(summary, conv, "auc"), by_gap_table(summary, conv, "fnmr")]
    if len(bench):
        out.append(benchmarks_table(bench))
    if len(attr):
        out.append(attributes_table(attr))
    return out
