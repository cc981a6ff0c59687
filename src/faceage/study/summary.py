"""The study's tables: every figure copied from a dataset's own tables, never recomputed.

* :func:`summary_table` - one row per dataset x model x subset (``all``, then each gap bin in
  the dataset's order) with AUC, EER, FNMR at one fixed FMR, the 10-fold accuracy (each with
  its 95 % interval), the ageing slope per decade (on the ``all`` row) and the counts each
  rests on; ``empty`` says why a figure is missing, from the source's ``notes``;
* :func:`conventions_table` - per dataset x model, the conventions the figures rest on (which
  pairs, which impostors, the bootstrap, the folds), from ``conventions.json``;
* :func:`stacked` - the per-dataset tables (paired differences, benchmarks, estimators) stacked,
  with the record's fields (``dataset``, ...) as leading columns;
* :func:`provenance_table` - per dataset, the faceage version and git commit its results were
  made with (from its ``settings.yaml``), and :func:`provenance_line`, the same in one line
  for the foot of the paper tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faceage.analysis.comparison import ageing_figures
from faceage.analysis.operating import fmr_key, needs
from faceage.analysis.verification import COUNT_COLUMNS, ROC_COLUMNS

SUBSETS = ("all", "gap_bin")

# Copied from the source row under the same name (metrics.tsv).
COPIED = [*COUNT_COLUMNS, *ROC_COLUMNS]
ACCURACY = ["acc_mean", "acc_std", "acc_lo", "acc_hi", "acc_folds", "acc_pairs"]
FNMR = ["fmr", "fnmr", "fnmr_lo", "fnmr_hi", "n_operating_impostors"]
AGEING = [
    "slope_per_decade",
    "slope_per_decade_lo",
    "slope_per_decade_hi",
    "slope_p",
    "random_slope",
    "n_ageing_pairs",
    "n_ageing_persons",
]
SUMMARY_COLUMNS = [
    "dataset",
    "model",
    "pairs",
    "subset",
    "label",
    *COPIED,
    *FNMR,
    *ACCURACY,
    *AGEING,
    "roc_impostors",
    "empty",
]
# The figures whose absence ``empty`` explains; a note is about one of them when its first word
# is the figure's topic (``accuracy not reported: ...``, ``fnmr_at_fmr_0.001 ...``).
FIGURES = ("auc", "eer", "fnmr", "acc_mean")
TOPICS = ("auc", "eer", "accuracy", "roc_fnmr_at_fmr_", "fnmr_at_fmr_")

CONVENTION_COLUMNS = [
    "dataset",
    "model",
    "pairs",
    "impostors",
    "bootstrap_iterations",
    "seed",
    "folds",
    "balance_accuracy",
    "min_accuracy_pairs",
    "gap_bins",
    "fmr_levels",
]


@dataclass
class Run:
    """One model on one dataset: its metrics, ageing and conventions as the files hold them."""

    dataset: str
    model: str
    metrics: pd.DataFrame
    ageing: pd.DataFrame
    conventions: Mapping

    @property
    def pairs(self) -> str:
        """``common`` when the metrics are on the pairs every model scored, else ``own``
        (``conventions.json`` names ``pairs`` only then)."""
        return "common" if "pairs" in self.conventions.get("settings", {}) else "own"


def _notes(row: pd.Series) -> list[str]:
    text = row.get("notes")
    return [x for x in ("" if pd.isna(text) else str(text)).split("; ") if x]


def _topic(note: str) -> str:
    return note.split(" ")[0].rstrip(":")


def _reason(figure: str, notes: list[str], row: pd.Series, fmr: float, has_level: bool) -> str:
    """Why ``figure`` is empty in ``row``: the notes about it, else the notes about the row."""
    if figure == "fnmr" and not has_level:
        return f"FMR {fmr:g} is not among this dataset's fmr_levels"
    topic = {"acc_mean": "accuracy", "fnmr": fmr_key(fmr)}.get(figure, figure)
    about = [n for n in notes if _topic(n) == topic]
    if about:
        return "; ".join(about)
    general = [n for n in notes if not _topic(n).startswith(TOPICS)]
    if figure == "fnmr" and not general:
        pool = row.get("n_operating_impostors")
        if pd.notna(pool) and int(pool) < needs(fmr):
            return f"not estimable: {int(pool)} impostor pairs, FMR {fmr:g} needs >= {needs(fmr)}"
    return "; ".join(general) or "empty in the source table, which gives no reason"


def run_rows(run: Run, fmr: float) -> list[dict]:
    """The summary rows of one model on one dataset (:data:`SUMMARY_COLUMNS`)."""
    m = run.metrics
    key = fmr_key(fmr)
    has_level = key in m.columns
    ageing = ageing_figures(run.ageing.iloc[0]) if len(run.ageing) else {}
    if len(run.ageing):
        a = run.ageing.iloc[0]
        ageing["n_ageing_pairs"] = a.get("n_pairs_fitted", a.get("n_pairs"))
        ageing["n_ageing_persons"] = a.get("n_persons_fitted", a.get("n_persons"))
    rows = []
    for _, r in m[m["subset"].isin(SUBSETS)].iterrows():
        row = {"dataset": run.dataset, "model": run.model, "pairs": run.pairs}
        row |= {"subset": r["subset"], "label": r["label"]}
        row |= {col: r.get(col) for col in COPIED + ACCURACY}
        row["fmr"] = fmr
        for out, suffix in (("fnmr", ""), ("fnmr_lo", "_lo"), ("fnmr_hi", "_hi")):
            row[out] = r.get(key + suffix) if has_level else np.nan
        row["n_operating_impostors"] = r.get("n_operating_impostors")
        row["roc_impostors"] = r.get("roc_impostors")
        notes = _notes(r)
        empty = [
            f"{fig}: {_reason(fig, notes, r, fmr, has_level)}"
            for fig in FIGURES
            if pd.isna(row.get(fig))
        ]
        if r["subset"] == "all":
            row |= ageing
            if pd.isna(row.get("slope_per_decade")):
                warn = run.ageing.iloc[0].get("warnings") if len(run.ageing) else None
                why = "no ageing model" if warn is None or pd.isna(warn) else str(warn)
                empty.append(f"slope_per_decade: {why}")
        row["empty"] = "; ".join(empty)
        rows.append(row)
    return rows


def summary_table(runs: Sequence[Run], fmr: float) -> pd.DataFrame:
    """The long summary (:data:`SUMMARY_COLUMNS`), in the order of ``runs``: a row per dataset
    x model x subset (``all``, then the gap bins in the dataset's order). FNMR at ``fmr`` is
    the source's ``fnmr_at_fmr_<fmr>`` (+ interval); the ageing figures are on the ``all``
    row (one model per model and dataset); every other cell is the source's cell."""
    rows = [row for run in runs for row in run_rows(run, fmr)]
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    for col in [c for c in SUMMARY_COLUMNS if c.startswith("n_")] + ["acc_folds", "acc_pairs"]:
        out[col] = pd.array(pd.to_numeric(out[col], errors="coerce"), dtype="Int64")
    return out


def conventions_table(runs: Sequence[Run]) -> pd.DataFrame:
    """Per dataset x model, the conventions the figures rest on (:data:`CONVENTION_COLUMNS`);
    lists as ``a, b, c``."""
    rows = []
    for run in runs:
        s = run.conventions.get("settings", {})
        rows.append(
            {
                "dataset": run.dataset,
                "model": run.model,
                "pairs": run.pairs,
                "impostors": s.get("impostors_per_gap_bin"),
                "bootstrap_iterations": s.get("bootstrap_iterations"),
                "seed": s.get("seed"),
                "folds": s.get("n_folds"),
                "balance_accuracy": s.get("balance_accuracy"),
                "min_accuracy_pairs": s.get("min_accuracy_pairs"),
                "gap_bins": _listed(s.get("gap_bins", [])),
                "fmr_levels": _listed(s.get("fmr_levels", [])),
            }
        )
    return pd.DataFrame(rows, columns=CONVENTION_COLUMNS)


def _listed(values) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def stacked(parts: Sequence[tuple[Mapping, pd.DataFrame]], columns: Sequence[str]) -> pd.DataFrame:
    """The tables of ``parts`` (record, table) one under the other, the record's fields as
    leading columns (``columns``: those fields, in order; the table's own columns follow)."""
    frames = []
    for record, table in parts:
        t = table.copy()
        for k, name in enumerate(columns):
            if name in t.columns:
                t = t.drop(columns=name)
            t.insert(k, name, record[name])
        frames.append(t)
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True)


def dataset_order(*record_lists: Sequence[Mapping]) -> list[str]:
    """The datasets in the order they first appear in the records."""
    return list(dict.fromkeys(r["dataset"] for records in record_lists for r in records))


PROVENANCE_COLUMNS = ["dataset", "faceage_version", "git_commit"]


def provenance_table(records: Sequence[tuple[str, Mapping]]) -> pd.DataFrame:
    """One row per ``(dataset, settings record)``: the ``faceage_version`` and ``git_commit``
    of the record (results/<dataset>/settings.yaml, :func:`faceage.workflow.settings.provenance`);
    a record without them says ``unknown``."""
    rows = [
        {
            "dataset": ds,
            "faceage_version": str(rec.get("faceage_version") or "unknown"),
            "git_commit": str(rec.get("git_commit") or "unknown"),
        }
        for ds, rec in records
    ]
    return pd.DataFrame(rows, columns=PROVENANCE_COLUMNS)


def provenance_line(table: pd.DataFrame) -> str:
    """``faceage 0.1.0, commit abc...`` of :func:`provenance_table`; each distinct version and
    commit with its datasets when they differ."""
    pairs = table.groupby(["faceage_version", "git_commit"], sort=False)["dataset"].agg(list)
    if len(pairs) == 1:
        (version, commit), _ = next(iter(pairs.items()))
        return f"faceage {version}, commit {commit}"
    return "; ".join(
        f"faceage {v}, commit {c} ({', '.join(map(str, ds))})" for (v, c), ds in pairs.items()
    )
