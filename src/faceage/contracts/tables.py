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


class DamagedFileError(ValueError):
    """A stage file that cannot be read back (cut short, overwritten, not what its name says).

    The message names the file and the way out: the files are results, so deleting the
    damaged one and re-running makes it again.
    """

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        super().__init__(
            f"cannot read {path}: {problem}. The file is damaged or cut short (an interrupted "
            f"copy, a full disk, an edit): delete {path} and re-run; the workflow makes it again"
        )


# Not damage: a missing file, a folder, no permission keep their own (clear) errors.
_NOT_DAMAGE = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


@contextlib.contextmanager
def reading(path: str | os.PathLike) -> Iterator[None]:
    """Turn whatever a library raises while parsing ``path`` into :class:`DamagedFileError`
    naming it (pyarrow's "Parquet magic bytes not found", zipfile's "File is not a zip
    file", numpy's "cannot reshape"), with how to recover."""
    try:
        yield
    except (*_NOT_DAMAGE, DamagedFileError):
        raise
    except Exception as exc:  # noqa: BLE001 - every parser's own exception types
        raise DamagedFileError(path, f"{type(exc).__name__}: {exc}") from exc


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
BATCH_ROWS = 1 << 18  # rows per Parquet row group, and per batch when a table is streamed


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
    """The contract's dtypes for a Parquet file (floats to 6 significant digits); the rows
    keep their order whatever ``df``'s index."""
    df = df.reset_index(drop=True)
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
        elif isinstance(s.dtype, pd.CategoricalDtype):  # written as a dictionary column
            out[col] = s.cat.rename_categories(s.cat.categories.astype(str))
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
    if is_parquet(path):  # a row group at a time: a copy of one group, not of the table
        with parquet_writer(path, list(df.columns)) as write:
            for start in range(0, len(df), BATCH_ROWS):
                write(df.iloc[start : start + BATCH_ROWS])
        return
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, lineterminator="\n", float_format="%.6g")


def _arrow(df: pd.DataFrame):
    """``df`` as an Arrow table with the contract's types; categorical columns as dictionaries
    with int32 indices, whatever the number of categories, so every batch of a streamed table
    has one schema."""
    import pyarrow as pa

    table = pa.Table.from_pandas(_typed(df), preserve_index=False)
    fields = [
        pa.field(f.name, pa.dictionary(pa.int32(), pa.string()))
        if pa.types.is_dictionary(f.type)
        else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


@contextlib.contextmanager
def parquet_writer(path: str | os.PathLike, columns: list[str] | None = None):
    """Write a Parquet table in parts: yields ``write(df)``, called once per batch of rows
    (zstd, row groups of :data:`BATCH_ROWS`); atomic like :func:`write_table`. Without any
    batch the file holds the empty table of ``columns``."""
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        state: dict = {}

        def write(df: pd.DataFrame) -> None:
            table = _arrow(df)
            if "writer" not in state:
                state["schema"] = table.schema
                state["writer"] = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            else:
                table = table.cast(state["schema"])
            state["writer"].write_table(table, row_group_size=BATCH_ROWS)

        try:
            yield write
            if "writer" not in state:
                write(empty_table(columns or []))  # no rows: the columns and their types
        finally:
            if "writer" in state:
                state["writer"].close()


def read_table(
    path: str | os.PathLike,
    columns: list[str] | None = None,
    only: list[str] | None = None,
) -> pd.DataFrame:
    """Read a table written by :func:`write_table`, with the contract's dtypes.

    ``columns``: columns that must be there; ``only``: read just those of these that the file
    has (column by column from a Parquet file; a TSV is read whole, then cut).
    """
    with reading(path):
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
    return _contract_types(df, is_parquet(path))


def _contract_types(df: pd.DataFrame, parquet: bool) -> pd.DataFrame:
    """The contract's dtypes (:data:`DTYPES`) for a table as read from TSV text or Parquet."""
    for col in df.columns:
        dtype = DTYPES.get(col)
        if dtype in ("Int64", "float64"):
            df[col] = pd.to_numeric(df[col]).astype(dtype)
        elif dtype == "boolean":
            if not pd.api.types.is_bool_dtype(df[col]):
                df[col] = df[col].map({"True": True, "False": False, "true": True, "false": False})
            df[col] = df[col].astype("boolean")
        elif (dtype == "string" or dtype is None) and not (
            parquet and pd.api.types.is_numeric_dtype(df[col])
        ):
            df[col] = df[col].astype("string")
    return df


def iter_table(path: str | os.PathLike, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """A table in batches of at most :data:`BATCH_ROWS` rows (a TSV file: in one), text columns
    of Parquet as categoricals; ``columns`` must be there."""
    if not is_parquet(path):
        yield read_table(path, columns)
        return
    import pyarrow.parquet as pq

    with reading(path):
        f = pq.ParquetFile(path)
    missing = [c for c in (columns or []) if c not in f.schema_arrow.names]
    if missing:
        raise ValueError(f"{path} lacks columns {missing} (has {f.schema_arrow.names})")
    batches = f.iter_batches(batch_size=BATCH_ROWS, use_threads=False)
    while True:
        with reading(path):
            batch = next(batches, None)
            if batch is None:
                return
            df = batch.to_pandas()
        yield df


def _fits_int32(values: np.ndarray) -> bool:
    return not len(values) or (values.min() >= -(2**31) and values.max() < 2**31)


def _small_int(values: np.ndarray) -> np.ndarray:
    """Integers in int32 when they fit (int64 otherwise): the same values in half the bytes."""
    return values.astype(np.int32 if _fits_int32(values) else np.int64)


def _read_parquet_compact(path, only: list[str] | None) -> pd.DataFrame:
    """The columns ``only`` of a Parquet file, batch by batch into preallocated arrays, so the
    peak is the result plus one batch (a whole-file read holds Arrow's buffers beside it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    have = pq.read_schema(path).names
    cols = [c for c in (only if only is not None else have) if c in have]
    text = [c for c in cols if DTYPES.get(c) == "string"]
    f = pq.ParquetFile(path, read_dictionary=text)
    n = f.metadata.num_rows
    arrays: dict[str, np.ndarray] = {}
    masks: dict[str, np.ndarray] = {}
    names: dict[str, dict] = {c: {} for c in text}
    start = 0
    for batch in f.iter_batches(batch_size=BATCH_ROWS, columns=cols, use_threads=False):
        stop = start + batch.num_rows
        for c in cols:
            col = batch.column(c)
            if c in names:
                if not pa.types.is_dictionary(col.type):
                    col = col.dictionary_encode()
                seen = names[c]
                local = np.array(
                    [seen.setdefault(v, len(seen)) for v in col.dictionary.to_pylist()],
                    dtype=np.int64,
                )
                idx = col.indices.to_numpy(zero_copy_only=False)
                codes = np.full(len(col), -1, dtype=np.int64)
                valid = ~np.asarray(col.is_null(), dtype=bool)
                codes[valid] = local[idx[valid].astype(np.int64)]
                values = codes
            else:
                if col.null_count:
                    null = np.asarray(col.is_null(), dtype=bool)
                    masks.setdefault(c, np.zeros(n, dtype=bool))[start:stop] = null
                    col = col.fill_null(0)
                values = col.to_numpy(zero_copy_only=False)
            values = np.asarray(values)
            if c not in arrays:
                small = c in names or np.issubdtype(values.dtype, np.integer)
                arrays[c] = np.empty(n, dtype=np.int32 if small else values.dtype)
            if arrays[c].dtype == np.int32 and not _fits_int32(values):
                arrays[c] = arrays[c].astype(np.int64)  # a value beyond int32: widen
            arrays[c][start:stop] = values
        start = stop
    out = {}
    for c in cols:
        if c not in arrays:  # no rows
            out[c] = pd.Series([], dtype="category" if c in names else "float64")
            continue
        if c in names:
            cats = list(names[c])
            codes = arrays.pop(c)
            out[c] = pd.Categorical.from_codes(codes, categories=cats)
        elif c in masks:
            values = arrays.pop(c)
            if np.issubdtype(values.dtype, np.integer):
                out[c] = pd.arrays.IntegerArray(values, masks[c])
            else:
                values = values.astype(np.float64)
                values[masks[c]] = np.nan
                out[c] = values
        else:
            out[c] = arrays.pop(c)
    df = pd.DataFrame(index=pd.RangeIndex(n))
    for c in cols:  # column by column: no consolidation into one block (a copy)
        df[c] = out.pop(c)
    del f
    pa.default_memory_pool().release_unused()  # Arrow's pool keeps freed batches otherwise
    return df


def read_compact(path: str | os.PathLike, only: list[str] | None = None) -> pd.DataFrame:
    """A large table (pairs, scores) in little memory, for the analysis steps.

    The values of :func:`read_table`, in compact types: text columns as pandas categoricals
    (codes and one copy of each text; ``x_a`` and ``x_b`` share one sorted list), integer
    columns without missing values as int32 (int64 when a value does not fit), floats as
    float64. ``only``: the columns to read, of those the file has (batch by batch from
    Parquet, into preallocated arrays).
    """
    if is_parquet(path):
        with reading(path):
            df = _read_parquet_compact(path, only)
    else:
        df = read_table(path, only=only)
    for col in df.columns:
        dtype = DTYPES.get(col)
        s = df[col]
        if dtype == "string" or (dtype is None and not pd.api.types.is_numeric_dtype(s)):
            cat = s if isinstance(s.dtype, pd.CategoricalDtype) else s.astype("category")
            df[col] = cat.cat.rename_categories(cat.cat.categories.astype(str))
        elif dtype == "Int64" and not isinstance(s.dtype, np.dtype):
            if s.isna().any():
                df[col] = s.astype("Int64")
            else:
                df[col] = _small_int(s.to_numpy(dtype=np.int64))
        elif dtype == "float64" and s.dtype != np.float64:
            df[col] = s.to_numpy(dtype=np.float64, na_value=np.nan)
    for col in df.columns:  # image_a/image_b, ...: one sorted list of names, comparable codes
        twin = col[:-2] + "_b"
        if col.endswith("_a") and twin in df.columns:
            a, b = df[col], df[twin]
            if isinstance(a.dtype, pd.CategoricalDtype) and isinstance(
                b.dtype, pd.CategoricalDtype
            ):
                names = a.cat.categories.union(b.cat.categories)
                df[col], df[twin] = a.cat.set_categories(names), b.cat.set_categories(names)
    return df


def export_tsv(path: str | os.PathLike, out: str | os.PathLike) -> None:
    """A table (e.g. the Parquet pairs or scores) as TSV, for a spreadsheet: the bytes
    :func:`write_table` writes, a batch of rows at a time."""
    if not is_parquet(path):
        write_table(read_table(path), out)
        return
    import pyarrow.parquet as pq

    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        header = True
        for batch in iter_table(path):
            _contract_types(batch, parquet=True).to_csv(
                fh, sep="\t", index=False, header=header, lineterminator="\n", float_format="%.6g"
            )
            header = False
        if header:  # no rows: the header alone
            fh.write("\t".join(pq.read_schema(path).names) + "\n")


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
