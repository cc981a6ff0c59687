"""What every protocol parser shares: the table it returns, its error, the fold rules."""

from __future__ import annotations

import numpy as np
import pandas as pd

PROTOCOL_COLUMNS = ["image_a", "image_b", "genuine", "fold"]


class ProtocolError(ValueError):
    """A protocol file that does not look like its format."""


def protocol_table(rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    """Rows ``(image_a, image_b, genuine, fold)`` -> protocol table, ``genuine``/``fold`` int64."""
    df = pd.DataFrame(rows, columns=PROTOCOL_COLUMNS)
    df["genuine"] = df["genuine"].astype("int64")
    df["fold"] = df["fold"].astype("int64")
    return df


def class_folds(genuine: np.ndarray, n_folds: int = 10) -> np.ndarray:
    """Fold per pair: the k-th tenth (in file order) of each class goes to fold k."""
    genuine = np.asarray(genuine).astype(bool)
    folds = np.empty(len(genuine), dtype=np.int64)
    for cls in (True, False):
        idx = np.flatnonzero(genuine == cls)
        folds[idx] = np.arange(len(idx)) * n_folds // max(len(idx), 1)
    return folds


def kfold_blocks(n: int, n_folds: int = 10) -> np.ndarray:
    """insightface's ``KFold(n_folds, shuffle=False)``: contiguous blocks.

    The first ``n % n_folds`` blocks are one longer.
    """
    sizes = np.full(n_folds, n // n_folds)
    sizes[: n % n_folds] += 1
    return np.repeat(np.arange(n_folds, dtype=np.int64), sizes)[:n]
