"""Atomic writes and the TSV reader and writer every stage table goes through."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from faceage.contracts.columns import DTYPES, MANIFEST_COLUMNS, PAIR_COLUMNS


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    The file gets the permissions a plain ``open`` would give (``0o666`` minus
    the umask), not mkstemp's private ``0o600``, so a project group can read it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_table(
    df: pd.DataFrame, path: str | os.PathLike, columns: list[str] | None = None
) -> None:
    """Write ``df`` as a TSV atomically, with ``columns`` first and in order."""
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"table for {path} lacks columns {missing}")
        extra = [c for c in df.columns if c not in columns]
        df = df[columns + extra]
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, lineterminator="\n", float_format="%.6g")


def read_table(path: str | os.PathLike, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a TSV written by :func:`write_table`, with the contract's dtypes."""
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"{path} lacks columns {missing} (has {list(df.columns)})")
    for col in df.columns:
        dtype = DTYPES.get(col)
        if dtype in ("Int64", "float64"):
            df[col] = pd.to_numeric(df[col]).astype(dtype)
        elif dtype == "boolean":
            df[col] = (
                df[col]
                .map({"True": True, "False": False, "true": True, "false": False})
                .astype("boolean")
            )
        elif dtype == "string" or dtype is None:
            df[col] = df[col].astype("string")
    return df


def empty_table(columns: list[str]) -> pd.DataFrame:
    """An empty DataFrame with the contract's columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=DTYPES.get(c, "string")) for c in columns})


def read_manifest(path: str | os.PathLike) -> pd.DataFrame:
    return read_table(path, MANIFEST_COLUMNS)


def write_manifest(df: pd.DataFrame, path: str | os.PathLike) -> None:
    write_table(df, path, MANIFEST_COLUMNS)


def read_pairs(path: str | os.PathLike) -> pd.DataFrame:
    return read_table(path, PAIR_COLUMNS)


def write_pairs(df: pd.DataFrame, path: str | os.PathLike) -> None:
    write_table(df, path, PAIR_COLUMNS)
