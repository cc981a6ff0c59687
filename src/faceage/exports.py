"""Score files other tools read (opt-in targets of the scores stage, ``rule score_exports``).

* **bob.bio CSV** (``exports/<model>/bob_scores.csv``): the CSV score format of bob.bio.base's
  ``CSVScoreWriter`` - one row per comparison, the probe's and the reference's metadata prefixed
  ``probe_`` and ``bio_ref_``, then ``score``; bob.bio.base's loaders tell genuine from impostor
  by ``probe_subject_id == bio_ref_subject_id`` and read ``score``. Columns
  (:data:`BOB_COLUMNS`): ``probe_template_id`` (the older image's id, ``image_b``),
  ``probe_subject_id`` (its person), ``probe_age`` (years), ``bio_ref_template_id``,
  ``bio_ref_subject_id``, ``bio_ref_age`` (the younger image, ``image_a``), ``score`` (cosine
  similarity, higher = more alike).
* **pyeer** (``pyeer_genuine.txt``, ``pyeer_impostor.txt``): one score per line, the genuine and
  the impostor scores (pyeer's ``geteerinf -p <dir> -g pyeer_genuine.txt -i pyeer_impostor.txt``).

Two impostor sets, because metrics.tsv's figures rest on two (:func:`record`):

* ``bob_scores.csv``, ``pyeer_impostor.txt``: every scored genuine pair of
  ``scores/<model>.parquet``, then every scored pair of the **operating impostor pool**
  (``scores/operating/<model>.parquet``), the impostors every "at FMR f" figure is set on:
  the ``all`` row's ``fnmr_at_fmr_<f>``, fnmr.tsv's ``all`` rows.
* ``bob_scores_pairs.csv``, ``pyeer_impostor_pairs.txt``: the same genuine pairs, then the
  impostor pairs of the **pairs table** (``pairs.parquet``: age-matched with
  ``comparisons.impostors: matched``), which the ``all`` row's ``auc``, ``eer`` and
  ``roc_fnmr_at_fmr_<f>`` rest on.

``pyeer_genuine.txt`` serves both. Unscored pairs (an image without an embedding) are left out.
``exports/<model>/README.txt`` and ``exports.json`` (rule ``export_note``) say which file holds
which set and which figures each pair of files reproduces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

import numpy as np
import pandas as pd

# The files of each export format (``exports: [bob, pyeer]``), by the rule's output name.
FILES = {
    "bob": {"bob": "bob_scores.csv", "bob_pairs": "bob_scores_pairs.csv"},
    "pyeer": {
        "genuine": "pyeer_genuine.txt",
        "impostor": "pyeer_impostor.txt",
        "impostor_pairs": "pyeer_impostor_pairs.txt",
    },
}
# pyeer's get_eer_stats fields that are FNMR at one FMR.
PYEER_FNMR_AT = {0.1: "fmr10", 0.05: "fmr20", 0.01: "fmr100", 0.001: "fmr1000"}

BOB_COLUMNS = [
    "probe_template_id",
    "probe_subject_id",
    "probe_age",
    "bio_ref_template_id",
    "bio_ref_subject_id",
    "bio_ref_age",
    "score",
]


def bob_rows(scores: pd.DataFrame) -> pd.DataFrame:
    """The scored pairs of a scores table as bob.bio CSV rows (:data:`BOB_COLUMNS`)."""
    s = pd.to_numeric(scores["similarity"], errors="coerce")
    t = scores[s.notna().to_numpy()]
    return pd.DataFrame(
        {
            "probe_template_id": t["image_b"].astype(str).to_numpy(),
            "probe_subject_id": t["person_b"].astype(str).to_numpy(),
            "probe_age": t["age_b"].to_numpy(),
            "bio_ref_template_id": t["image_a"].astype(str).to_numpy(),
            "bio_ref_subject_id": t["person_a"].astype(str).to_numpy(),
            "bio_ref_age": t["age_a"].to_numpy(),
            "score": s[s.notna()].to_numpy(dtype=np.float64),
        },
        columns=BOB_COLUMNS,
    )


def write_pyeer(scores: np.ndarray, out: TextIO) -> None:
    """Append ``scores`` to a pyeer score file: one score per line (9 significant digits)."""
    if len(scores):
        np.savetxt(out, np.asarray(scores, dtype=np.float64), fmt="%.9g")


def _level(f: float) -> str:
    return f"{float(f):g}"


def record(
    model: str,
    formats: Sequence[str],
    counts: dict[str, int],
    fmr_levels: Sequence[float],
    pairs_impostors: str,
) -> dict:
    """What the export folder of ``model`` holds (``exports.json``): every file with its
    impostor set and count, and, per impostor set, the figures of
    ``verification/<model>/metrics.tsv`` (its ``all`` row) and ``fnmr.tsv`` that the tools
    reproduce from it. ``counts``: ``genuine``, ``operating_pool`` and ``pairs``, the scored
    pairs of each set; ``pairs_impostors``: ``comparisons.impostors``."""
    from faceage.analysis.bootstrap import roc_key
    from faceage.analysis.operating import fmr_key

    sets = {
        "operating_pool": {
            "source": f"scores/operating/{model}.parquet",
            "what": "the operating impostor pool (operating_pairs.parquet), on which every "
            "threshold 'at FMR f' is set",
            "n_impostor": counts["operating_pool"],
            "figures": [
                {
                    "table": "metrics.tsv",
                    "row": "subset == all",
                    "column": fmr_key(f),
                    "is": f"FNMR at FMR {_level(f)}",
                    "pyeer": PYEER_FNMR_AT.get(float(f)),
                }
                for f in fmr_levels
            ]
            + [
                {
                    "table": "fnmr.tsv",
                    "row": "gap_bin == all",
                    "column": "fnmr",
                    "is": "FNMR at FMR fmr, each level",
                    "pyeer": None,
                }
            ],
        },
        "pairs": {
            "source": f"scores/{model}.parquet",
            "what": "the impostor pairs of the pairs table (pairs.parquet; comparisons.impostors: "
            f"{pairs_impostors})",
            "n_impostor": counts["pairs"],
            "figures": [
                {"table": "metrics.tsv", "row": "subset == all", "column": col, "is": what}
                | {"pyeer": pyeer}
                for col, what, pyeer in (
                    ("auc", "area under the ROC curve", "auc"),
                    ("eer", "equal error rate, in [eer_low, eer_high]", "eer_low..eer_high"),
                    ("n_genuine", "genuine pairs", None),
                    ("n_impostor", "impostor pairs", None),
                    ("mean_genuine_similarity", "mean genuine score", None),
                    ("mean_impostor_similarity", "mean impostor score", None),
                )
            ]
            + [
                {
                    "table": "metrics.tsv",
                    "row": "subset == all",
                    "column": roc_key(f),
                    "is": f"FNMR at FMR {_level(f)} on these impostors",
                    "pyeer": PYEER_FNMR_AT.get(float(f)),
                }
                for f in fmr_levels
            ],
        },
    }
    files = []
    for fmt in formats:
        for name, file in FILES[fmt].items():
            impostors = (
                None
                if name == "genuine"
                else ("pairs" if name.endswith("_pairs") else "operating_pool")
            )
            entry = {"file": file, "format": fmt, "impostors": impostors}
            entry["n_genuine"] = counts["genuine"] if fmt == "bob" or name == "genuine" else 0
            entry["n_impostor"] = counts[impostors] if impostors else 0
            files.append(entry)
    return {
        "model": model,
        "metrics": f"verification/{model}/metrics.tsv",
        "n_genuine": counts["genuine"],
        "files": files,
        "impostor_sets": sets,
    }


def note(rec: dict) -> str:
    """``exports/<model>/README.txt``: :func:`record` in words."""
    sets = rec["impostor_sets"]
    lines = [
        f"Score exports of model {rec['model']} (cosine similarity, higher = more alike).",
        f"Genuine pairs: {rec['n_genuine']}, every scored same-person pair of the pairs table.",
        "",
        "Files:",
    ]
    for f in rec["files"]:
        s = f["impostors"]
        held = [f"{f['n_genuine']} genuine scores"] if f["n_genuine"] else []
        if s:
            held.append(f"{f['n_impostor']} impostor scores of {s} ({sets[s]['source']})")
        held = ", then ".join(held)
        lines.append(f"  {f['file']} ({f['format']}): {held}")
    lines.append("")
    for name, s in sets.items():
        files = [f["file"] for f in rec["files"] if f["impostors"] in (None, name)]
        if not files:
            continue
        lines.append(f"{name}: {s['what']}; {s['n_impostor']} impostor pairs.")
        lines.append(f"  {', '.join(files)} reproduce, of results/<dataset>/{rec['metrics']}:")
        for fig in s["figures"]:
            tool = f" (pyeer: {fig['pyeer']})" if fig["pyeer"] else ""
            lines.append(f"    {fig['table']} [{fig['row']}] {fig['column']}: {fig['is']}{tool}")
    lines += [
        "",
        "The figures' intervals (_lo/_hi) are the workflow's subject bootstrap; no tool",
        "reproduces them from scores alone. pyeer: geteerinf -p <this folder> -g",
        "pyeer_genuine.txt -i pyeer_impostor.txt (or pyeer_impostor_pairs.txt) -e <name>.",
        "bob.bio.base: bob bio metrics -e bob_scores.csv (or bob_scores_pairs.csv).",
        "Conventions: docs/verification.md.",
    ]
    return "\n".join(lines) + "\n"
