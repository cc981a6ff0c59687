"""README says the report bundles every table and plot, and lists what stays out: every result
file that README or docs/verification.md's outputs table names is a ``report()`` output of a rule
or on that list. Cheap: the rules and the docs are read as text, nothing runs."""

from __future__ import annotations

import re
from fnmatch import fnmatch

from conftest import ROOT

RESULT_FILE = r"[\w<>*{}./-]+\.(?:tsv|csv|png|json|yaml|txt|parquet|npz|md|tex)"
ROOTS = {"{RESULTS}": "", "{VER}": "verification", "{STUDY_DIR}": "study"}


def canonical(path: str) -> list[str]:
    """``path``'s segments, every placeholder (``<model>``, ``{{model}}``, ``*``) as ``*``,
    without the results/<dataset>/ prefix."""
    for k, v in ROOTS.items():
        path = path.replace(k, v)
    path = re.sub(r"^results/(?:<[^>]+>|[a-z0-9]+)/", "", path)
    path = re.sub(r"\{\{?\w+\}?\}|<[^>]+>|\*+", "*", path)
    return [s for s in path.split("/") if s]


def report_outputs() -> list[list[str]]:
    out = []
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        out += [
            canonical(p) for p in re.findall(r'(?<![\w.])report\(\s*f?"([^"]+)"', smk.read_text())
        ]
    return out


def matches(named: list[str], path: list[str]) -> bool:
    tail = path[-len(named) :]
    return len(tail) == len(named) and all(
        fnmatch(p, n) or fnmatch(n, p) for n, p in zip(named, tail, strict=True)
    )


def readme_named() -> tuple[set[str], list[str]]:
    """(every result file README names, the files README says stay out of the report)."""
    text = (ROOT / "README.md").read_text()
    para = text[text.index("snakemake --report report.zip") :]
    para = para[: para.index("\n\n")]
    out = para[para.index("stay out") :]
    stays_out = re.findall(rf"`({RESULT_FILE})`", out)
    stage = text[text.index("## What the workflow does") : text.index("Further stages plug")]
    named = set(re.findall(rf"`({RESULT_FILE})`", stage))
    named |= {n for n in re.findall(r"`(results/[^`]+)`", text) if re.fullmatch(RESULT_FILE, n)}
    return {n for n in named if not n.startswith(("config/", "docs/", "envs/", "src/"))}, stays_out


def docs_named() -> set[str]:
    text = (ROOT / "docs" / "verification.md").read_text()
    table = text[text.index("## Outputs") :]
    table = table[: table.index("\n\n", table.index("| file |"))]
    return {n for line in table.splitlines() for n in re.findall(rf"`({RESULT_FILE})`", line)}


def test_readme_names_what_stays_out_of_the_report():
    named, stays_out = readme_named()
    assert {"manifest.tsv", "pairs.parquet", "scores/<model>.parquet"} <= set(stays_out)
    reported = report_outputs()
    out = [canonical(s) for s in stays_out]
    missing = sorted(
        n
        for n in named | docs_named()
        if not any(matches(canonical(n), p) for p in reported)
        and not any(matches(canonical(n), o) or matches(o, canonical(n)) for o in out)
    )
    assert not missing, (
        f"named in README/docs but neither in the report nor said to stay out: {missing}"
    )
    wrongly_out = sorted(s for s in stays_out if any(matches(canonical(s), p) for p in reported))
    assert not wrongly_out, f"README says these stay out, but the report has them: {wrongly_out}"


def test_the_issues_tables_are_in_the_report():
    reported = report_outputs()
    for f in (
        "ageing.tsv",
        "age_probe.tsv",
        "det.tsv",
        "roc.tsv",
        "fnmr_by_year.tsv",
        "conventions.json",
        "provenance.json",
        "README.txt",
        "settings.yaml",
    ):
        assert any(matches([f], p) for p in reported), f
