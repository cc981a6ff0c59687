"""The overrides file (``config/overrides.tsv``): a reviewer's decisions on single images.

TSV with ``image_id``, ``action`` (``drop`` or ``relabel``), ``field`` (person, age or gender,
for ``relabel``), ``value`` and ``note``; ``#`` starts a comment. Read by the clean stage and the
attribute branch (:func:`faceage.clean.apply_overrides` applies it); written by
``faceage review apply``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

OVERRIDE_COLUMNS = ["image_id", "action", "field", "value", "note"]
RELABEL_FIELDS = ("person", "age", "gender")


def read_overrides(path: str | os.PathLike | None) -> pd.DataFrame:
    """Read the overrides file (TSV: image_id, action, field, value, note); empty if absent.

    Lines starting with ``#`` are comments. ``action`` is ``drop`` or
    ``relabel``; ``relabel`` needs ``field`` (person, age or gender) and
    ``value``.
    """
    if not path or not Path(path).is_file():
        return pd.DataFrame(columns=OVERRIDE_COLUMNS, dtype="string")
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    missing = [c for c in ("image_id", "action") if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected {OVERRIDE_COLUMNS}")
    for col in OVERRIDE_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df[OVERRIDE_COLUMNS].apply(lambda s: s.str.strip())
    bad = df[~df["action"].isin(["drop", "relabel"])]
    if len(bad):
        raise ValueError(
            f"{path}: action must be drop or relabel, got {sorted(set(bad['action']))}"
        )
    bad = df[(df["action"] == "relabel") & ~df["field"].isin(RELABEL_FIELDS)]
    if len(bad):
        raise ValueError(
            f"{path}: relabel field must be one of {RELABEL_FIELDS}, "
            f"got {sorted(set(bad['field']))}"
        )
    return df


def append_overrides(lines: pd.DataFrame, overrides_path: str | Path) -> int:
    """Append override lines to the overrides file (created with a header if absent).

    Lines identical to one already in the file are not added twice.
    Returns the number of lines added.
    """
    path = Path(overrides_path)
    existing = read_overrides(path)
    seen = {
        tuple(r)
        for r in existing[["image_id", "action", "field", "value"]]
        .astype(str)
        .itertuples(index=False)
    }
    new = [r for r in lines.astype(str).itertuples(index=False) if tuple(r[:4]) not in seen]
    if not new:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    header = not path.is_file() or path.stat().st_size == 0
    with open(path, "a", encoding="utf-8") as fh:
        if not header and not path.read_text(encoding="utf-8").endswith("\n"):
            fh.write("\n")
        if header:
            fh.write("\t".join(["image_id", "action", "field", "value", "note"]) + "\n")
        for r in new:
            fh.write("\t".join(str(x).replace("\t", " ") for x in r) + "\n")
    return len(new)
