"""Atomic writes and the reader and writer every stage table goes through.

A table is TSV or, when its path ends in ``.parquet``, Parquet (pyarrow, zstd, text columns
dictionary-encoded): the pairs and scores tables, the large ones, are Parquet. Both carry the
contract's dtypes (:data:`~faceage.contracts.columns.DTYPES`) and the same values: floats are
kept to 6 significant digits in both, so a table reads back the same whichever format it was
written in.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
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


PARQUET = ".parquet"


def is_parquet(path: str | os.PathLike) -> bool:
    return str(path).endswith(PARQUET)


def six_digits(values) -> np.ndarray:
    """Floats rounded to 6 significant digits, as the TSV writer's ``%.6g`` keeps them."""
    x = np.asarray(values, dtype=np.float64)
    out = x.copy()
    ok = np.isfinite(x) & (x != 0)
    scale = np.power(10.0, 5 - np.floor(np.log10(np.abs(x[ok]))))
    out[ok] = np.round(x[ok] * scale) / scale
    return out


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """The contract's dtypes for a Parquet file (floats to 6 significant digits)."""
    out = {}
    for col in df.columns:
        dtype = DTYPES.get(col)
        s = df[col]
        if dtype == "Int64":
            out[col] = pd.array(pd.to_numeric(s), dtype="Int64")
        elif dtype == "float64" or (dtype is None and pd.api.types.is_float_dtype(s)):
            out[col] = six_digits(pd.to_numeric(s))
        elif dtype == "boolean":
            out[col] = pd.array(s, dtype="boolean")
        elif dtype in ("string", None) and not pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype("string")
        else:
            out[col] = s
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def write_table(
    df: pd.DataFrame, path: str | os.PathLike, columns: list[str] | None = None
) -> None:
    """Write ``df`` atomically (TSV, or Parquet for ``*.parquet``), ``columns`` first, in order."""
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"table for {path} lacks columns {missing}")
        extra = [c for c in df.columns if c not in columns]
        df = df[columns + extra]
    with atomic_path(path) as tmp:
        if is_parquet(path):
            _typed(df).to_parquet(tmp, engine="pyarrow", compression="zstd", index=False)
        else:
            df.to_csv(tmp, sep="\t", index=False, lineterminator="\n", float_format="%.6g")


def read_table(
    path: str | os.PathLike,
    columns: list[str] | None = None,
    only: list[str] | None = None,
) -> pd.DataFrame:
    """Read a table written by :func:`write_table`, with the contract's dtypes.

    ``columns``: columns that must be there; ``only``: read just those of these that the file
    has (column by column from a Parquet file; a TSV is read whole, then cut).
    """
    if is_parquet(path):
        if only is not None:
            import pyarrow.parquet as pq

            have = set(pq.read_schema(path).names)
            only = [c for c in only if c in have]
        df = pd.read_parquet(path, engine="pyarrow", columns=only)
    else:
        df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
        if only is not None:
            df = df[[c for c in only if c in df.columns]]
    need = [c for c in (columns or []) if only is None or c in only]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"{path} lacks columns {missing} (has {list(df.columns)})")
    for col in df.columns:
        dtype = DTYPES.get(col)
        if dtype in ("Int64", "float64"):
            df[col] = pd.to_numeric(df[col]).astype(dtype)
        elif dtype == "boolean":
            if not pd.api.types.is_bool_dtype(df[col]):
                df[col] = df[col].map({"True": True, "False": False, "true": True, "false": False})
            df[col] = df[col].astype("boolean")
        elif (dtype == "string" or dtype is None) and not (
            is_parquet(path) and pd.api.types.is_numeric_dtype(df[col])
        ):
            df[col] = df[col].astype("string")
    return df


def export_tsv(path: str | os.PathLike, out: str | os.PathLike) -> None:
    """A table (e.g. the Parquet pairs or scores) as TSV, for a spreadsheet."""
    write_table(read_table(path), out)


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
