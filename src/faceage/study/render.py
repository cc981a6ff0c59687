"""A table as Markdown (a pipe table) or as LaTeX (booktabs), with its caption and the footnote
line that holds the counts.

The LaTeX is a ``table`` float per table, for ``\\input{tables.tex}`` in a document that loads
``booktabs`` (nothing else): ``\\toprule``/``\\midrule``/``\\bottomrule``, the first column's
repeats left blank and a small space between its groups, a value's interval under it in
``\\scriptsize``, the footnote in ``\\footnotesize`` under the rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from faceage.study.numbers import MISSING


@dataclass
class Table:
    """One headline table: ``header`` and ``rows`` of text cells; ``align`` one letter per
    column (``l``, ``r``, ``c``); ``footnote``: the counts line(s)."""

    key: str
    title: str
    caption: str
    header: list[str]
    rows: list[list[str]]
    align: str
    footnote: list[str] = field(default_factory=list)


def markdown(tables: Sequence[Table]) -> str:
    """The tables as Markdown: a bold title with the caption, the pipe table, the footnote."""
    out = []
    for k, t in enumerate(tables, 1):
        out.append(f"**Table {k}. {t.title}.** {t.caption}\n")
        out.append("| " + " | ".join(_md(h) for h in t.header) + " |")
        out.append("|" + "|".join({"l": ":--", "r": "--:", "c": ":-:"}[a] for a in t.align) + "|")
        out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in t.rows]
        out += [""] + [f"*{_md(line)}*" for line in t.footnote] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def _md(text: str) -> str:  # a head's line break (LaTeX) is a space here
    return str(text).replace("|", "\\|").replace("\n", " ")


LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    MISSING: "--",
    "±": r"$\pm$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "×": r"$\times$",
    "−": r"$-$",
}


NEGATIVE = re.compile(r"(?<![\w.])-(?=\d)")


def latex_text(text: str) -> str:
    """``text`` with LaTeX's special characters escaped."""
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def latex_cell(text: str) -> str:
    """A cell: escaped, a number's minus sign as math (``$-$0.14``), not a name's hyphen; a
    value with its interval (or its ``± sd``) on two lines, the interval smaller (a nested
    ``tabular``), so that five of them fit the width of a page."""
    out = NEGATIVE.sub("$-$", latex_text(text))
    for mark in (" [", " " + LATEX_SPECIALS["±"] + " "):  # an interval, or a spread (± sd)
        value, sep, rest = out.partition(mark)
        if sep:
            break
    if not sep:
        return out
    small = f"{{\\scriptsize {sep.strip()}{' ' if sep.strip() != '[' else ''}{rest}}}"
    return f"\\begin{{tabular}}[t]{{@{{}}c@{{}}}}{value}\\\\{small}\\end{{tabular}}"


def latex_header(text: str) -> str:
    """A column head; a line break (``\\n``) breaks it in two, bottom-aligned."""
    lines = [latex_text(x) for x in str(text).split("\n")]
    if len(lines) == 1:
        return lines[0]
    return "\\begin{tabular}[b]{@{}c@{}}" + "\\\\".join(lines) + "\\end{tabular}"


def latex(tables: Sequence[Table], label_prefix: str = "tab:study-") -> str:
    """The tables as LaTeX ``table`` floats (booktabs); labels ``tab:study-<key>``."""
    out = ["% Made by faceage (results/study). Needs \\usepackage{booktabs}.", ""]
    for t in tables:
        out += [
            "\\begin{table}[htbp]",
            "\\centering",
            "\\small",
            "\\setlength{\\tabcolsep}{3pt}",
            f"\\caption{{{latex_text(t.title)}. {latex_text(t.caption)}}}",
            f"\\label{{{label_prefix}{t.key}}}",
            f"\\begin{{tabular}}{{{t.align}}}",
            "\\toprule",
            " & ".join(latex_header(h) for h in t.header) + " \\\\",
            "\\midrule",
        ]
        previous = None
        for row in t.rows:
            first = row[0]
            if previous is not None and first != previous:
                out.append("\\addlinespace")
            cells = ["" if first == previous else latex_cell(first)]
            cells += [latex_cell(c) for c in row[1:]]
            out.append(" & ".join(cells) + " \\\\")
            previous = first
        out += ["\\bottomrule", "\\end{tabular}"]
        if t.footnote:
            note = " ".join(latex_text(line) for line in t.footnote)
            out += ["", "\\smallskip", f"\\parbox{{\\linewidth}}{{\\footnotesize {note}}}"]
        out += ["\\end{table}", ""]
    return "\n".join(out)
