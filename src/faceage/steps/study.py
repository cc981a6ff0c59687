"""The study (workflow/rules/study.smk, results/study/): every dataset's and model's headline
figures side by side, copied from each dataset's own tables (docs/study.md).

Three steps, so that a figure or a table's layout changes without gathering the tables again:

``study_summary`` reads the per-dataset files and writes the study's TSVs;
``study_tables`` and ``study_plots`` read only those TSVs.

No step reads a file name: which dataset (and model, estimator) a file belongs to comes in
``settings`` as a list of records aligned with the input list of the same role.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from faceage import contracts as c
from faceage.steps import step


def _read(path) -> pd.DataFrame:
    from faceage.analysis.comparison import read_result

    return read_result(path)


def _aligned(input, settings, files: str, records: str) -> list[tuple[dict, str]]:
    """``[(record, path)]`` of the input list ``files`` and the settings list ``records``."""
    paths, recs = input.list(files), list(settings.get(records) or [])
    if len(paths) != len(recs):
        raise ValueError(
            f"study: {len(paths)} {files} files but {len(recs)} settings.{records} records; "
            f"the rule must give one record per file, in the same order"
        )
    return list(zip(recs, paths, strict=True))


@step
def study_summary(*, input, output, settings):
    """Gather every dataset's tables into the study's TSVs; no figure is computed again.

    Inputs (lists; any may be empty but ``metrics``):

    * ``metrics``, ``ageing``, ``conventions`` - per dataset and model, the files
      ``comparison.tsv`` is made of: ``results/<ds>/verification/<model>/[common/]metrics.tsv``,
      ``.../[common/]ageing.tsv``, ``.../[common/]conventions.json``;
    * ``differences`` - per dataset with several models, ``verification/paired/differences.tsv``;
    * ``benchmarks`` - per protocol dataset, ``verification/benchmarks.tsv``;
    * ``attributes`` - per dataset and estimator, ``attributes/<estimator>/summary.tsv``;
    * ``settings`` - per dataset, ``settings.yaml`` (its faceage version and git commit).

    Settings:

    * ``models`` - ``[{"dataset": ..., "model": ...}]``, one per file of ``metrics``, ``ageing``
      and ``conventions`` (the three lists in the same order);
    * ``differences``, ``benchmarks`` - ``[{"dataset": ...}]``, one per file;
    * ``attributes`` - ``[{"dataset": ..., "estimator": ...}]``, one per file;
    * ``settings`` - ``[{"dataset": ...}]``, one per file;
    * ``fmr`` - the FMR level of the summary's FNMR (one of the datasets' ``fmr_levels``).

    Outputs (``results/study/``): ``summary`` (summary.tsv), ``conventions``
    (conventions.tsv), ``differences`` (differences.tsv), ``benchmarks`` (benchmarks.tsv),
    ``attributes`` (attributes.tsv), ``provenance`` (provenance.tsv: each dataset's faceage
    version and git commit); the record order is the row order.
    """
    import yaml

    from faceage.analysis.paired.differences import DIFFERENCE_COLUMNS
    from faceage.attributes.evaluation import SUMMARY_KEYS
    from faceage.protocols.evaluation import benchmarks_table
    from faceage.study import summary as s

    models = _aligned(input, settings, "metrics", "models")
    ageing = [p for _, p in _aligned(input, settings, "ageing", "models")]
    conventions = [p for _, p in _aligned(input, settings, "conventions", "models")]
    runs = [
        s.Run(
            dataset=r["dataset"],
            model=r["model"],
            metrics=_read(m),
            ageing=_read(a),
            conventions=json.loads(Path(cv).read_text()),
        )
        for (r, m), a, cv in zip(models, ageing, conventions, strict=True)
    ]
    summary = s.summary_table(runs, float(settings.fmr))
    c.write_table(summary, output.summary)
    c.write_table(s.conventions_table(runs), output.conventions)
    for name, keys, columns in (
        ("differences", ["dataset"], DIFFERENCE_COLUMNS),
        ("benchmarks", ["dataset"], list(benchmarks_table([]).columns)),
        ("attributes", ["dataset", "estimator"], SUMMARY_KEYS),
    ):
        parts = [(r, _read(p)) for r, p in _aligned(input, settings, name, name)]
        table = s.stacked(parts, keys)
        if not parts:
            table = pd.DataFrame(columns=list(dict.fromkeys([*keys, *columns])))
        c.write_table(table, output[name])
    records = [
        (r["dataset"], yaml.safe_load(Path(p).read_text()) or {})
        for r, p in _aligned(input, settings, "settings", "settings")
    ]
    c.write_table(s.provenance_table(records), output.provenance)
    return summary


def _study_tables(input) -> dict[str, pd.DataFrame]:
    # provenance.tsv is text: a version such as 1.10 or a commit of digits is no number
    return {
        name: pd.read_csv(input[name], sep="\t", dtype=str, keep_default_na=False)
        if name == "provenance"
        else _read(input[name])
        for name in input
    }


@step
def study_tables(*, input, output):
    """The headline tables (docs/study.md) as Markdown and as LaTeX (booktabs).

    Inputs: the study's ``summary``, ``conventions``, ``benchmarks``, ``attributes`` and
    ``provenance`` TSVs. Outputs: ``markdown`` (results/study/tables.md), ``latex``
    (results/study/tables.tex), each ending in the faceage version and commit that made the
    figures (a comment in LaTeX)."""
    from faceage.study.render import latex, markdown
    from faceage.study.summary import provenance_line
    from faceage.study.tables import headline_tables

    t = _study_tables(input)
    tables = headline_tables(t["summary"], t["conventions"], t["benchmarks"], t["attributes"])
    made = f"Made with {provenance_line(t['provenance'])} (provenance.tsv)."
    for name, render, foot in (
        ("markdown", markdown, f"\n{made}\n"),
        ("latex", latex, f"\n% {made}\n"),
    ):
        with c.atomic_path(output[name]) as tmp:
            tmp.write_text(render(tables) + foot)
    return tables


@step
def study_plots(*, input, output):
    """The small multiples against the age gap and the forest plot of paired differences.

    Inputs: the study's ``summary`` and ``differences`` TSVs. Outputs: ``by_gap``
    (results/study/by_gap.png), ``forest`` (results/study/forest.png)."""
    from faceage.plots.study import plot_by_gap, plot_forest

    t = _study_tables(input)
    plot_by_gap(t["summary"], output.by_gap)
    plot_forest(t["differences"], output.forest)
