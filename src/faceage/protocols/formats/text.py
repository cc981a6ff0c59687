"""Pair lists in text files: LFW ``pairs.txt`` (``lfw``), CALFW / CPLFW (``calfw``, ``cplfw``)
and the generic CSV (``csv``)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from faceage.protocols.formats.base import (
    ProtocolError,
    class_folds,
    kfold_blocks,
    protocol_table,
)


def lfw_image(name: str, number: str) -> str:
    return f"{name}/{name}_{int(number):04d}.jpg"


def read_lfw_pairs(path: str | os.PathLike) -> pd.DataFrame:
    """LFW ``pairs.txt`` -> protocol table; folds from the header's sets."""
    lines = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
    if not lines or not all(t.isdigit() for t in lines[0]):
        raise ProtocolError(f"{path}: first line must be a header '<sets> <pairs per class>'")
    header = [int(t) for t in lines[0]]
    per_fold = 2 * header[1] if len(header) >= 2 else len(lines) - 1
    rows = []
    for i, tok in enumerate(lines[1:]):
        if len(tok) == 3:
            rows.append((lfw_image(tok[0], tok[1]), lfw_image(tok[0], tok[2]), 1, i // per_fold))
        elif len(tok) == 4:
            rows.append((lfw_image(tok[0], tok[1]), lfw_image(tok[2], tok[3]), 0, i // per_fold))
        else:
            raise ProtocolError(f"{path}: line {i + 2} has {len(tok)} fields; expected 3 or 4")
    return protocol_table(rows)


def read_calfw_pairs(path: str | os.PathLike, n_folds: int = 10) -> pd.DataFrame:
    """CALFW / CPLFW pair list (two lines per pair) -> protocol table."""
    lines = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
    if len(lines) % 2:
        raise ProtocolError(f"{path}: {len(lines)} non-empty lines; expected two per pair")
    rows = []
    for i in range(0, len(lines), 2):
        a, b = lines[i], lines[i + 1]
        if len(a) < 2 or len(b) < 1:
            raise ProtocolError(f"{path}: line {i + 1} must read '<image> <label>'")
        try:
            label = int(float(a[1]))
        except ValueError as exc:
            raise ProtocolError(f"{path}: line {i + 1}: label {a[1]!r} is not a number") from exc
        rows.append((a[0], b[0], int(label != 0), 0))
    df = protocol_table(rows)
    df["fold"] = class_folds(df["genuine"].to_numpy(), n_folds)
    return df


_TRUE = {"1", "true", "yes", "same", "+1", "genuine"}
_FALSE = {"0", "false", "no", "different", "-1", "impostor"}


def read_csv_protocol(path: str | os.PathLike, n_folds: int = 10) -> pd.DataFrame:
    """Generic CSV ``image_a,image_b,same[,fold]`` -> protocol table."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip() for f in reader.fieldnames or []]
        missing = [c for c in ("image_a", "image_b", "same") if c not in fields]
        if missing:
            raise ProtocolError(
                f"{path}: missing columns {missing}; need image_a,image_b,same[,fold]"
            )
        rows, folds = [], []
        for line, rec in enumerate(reader, start=2):
            rec = {k.strip(): (v or "").strip() for k, v in rec.items() if k}
            same = rec["same"].lower()
            if same not in _TRUE | _FALSE:
                raise ProtocolError(
                    f"{path}: line {line}: same={rec['same']!r} is not 1/0/true/false"
                )
            rows.append((rec["image_a"], rec["image_b"], int(same in _TRUE), 0))
            folds.append(rec.get("fold", ""))
    df = protocol_table(rows)
    if "fold" in fields and all(f != "" for f in folds):
        codes, _ = pd.factorize(pd.Series(folds), sort=False)
        df["fold"] = codes.astype("int64")
    else:
        df["fold"] = kfold_blocks(len(df), n_folds)
    return df
