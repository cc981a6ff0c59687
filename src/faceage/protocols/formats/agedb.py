"""AgeDB's protocol ``.mat`` files (``agedb_mat``)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pandas as pd

from faceage.protocols.formats.base import ProtocolError, protocol_table


def _walk(obj) -> Iterator[np.ndarray]:
    """Yield every leaf array of a loadmat structure (structs and cells opened)."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.names:  # struct array
            names = [_as_name(x) for x in obj.flat]
            if obj.size and all(n is not None for n in names):  # records such as (name, age)
                yield np.array(names, dtype=object).reshape(obj.shape)
                return
            for item in obj.flat:
                for name in obj.dtype.names:
                    yield from _walk(item[name])
        elif obj.dtype == object:
            if obj.size and all(isinstance(x, (str, np.str_)) for x in obj.flat):
                yield obj
                return
            # a cell array of names: every cell a string (maybe wrapped) -> a leaf
            names = [_as_name(x) for x in obj.flat]
            if obj.size and all(n is not None for n in names):
                yield np.array(names, dtype=object).reshape(obj.shape)
                return
            for item in obj.flat:
                yield from _walk(item)
        else:
            yield obj
    elif isinstance(obj, np.void) and obj.dtype.names:
        for name in obj.dtype.names:
            yield from _walk(obj[name])


def _as_name(x) -> str | None:
    """The string inside a cell / 1-element struct (name field first), else None."""
    if isinstance(x, (str, np.str_)):
        return str(x)
    if isinstance(x, np.void) and x.dtype.names:  # one record: its first field holding a string
        for name in x.dtype.names:
            s = _as_name(x[name])
            if s is not None:
                return s
        return None
    if isinstance(x, np.ndarray):
        if x.dtype.kind == "U":
            return str(x.flat[0]) if x.size == 1 else None
        if x.dtype.names and x.size == 1:  # a struct such as (name, age): first string field
            for name in x.dtype.names:
                s = _as_name(x.flat[0][name])
                if s is not None:
                    return s
            return None
        if x.dtype == object and x.size == 1:
            return _as_name(x.flat[0])
    return None


def read_agedb_mat(path: str | os.PathLike) -> pd.DataFrame:
    """AgeDB protocol ``.mat`` -> protocol table (see :mod:`faceage.protocols.formats`)."""
    from scipy.io import loadmat

    mat = loadmat(str(path))
    if "splits" not in mat:
        raise ProtocolError(
            f"{path}: no variable 'splits' (has {sorted(k for k in mat if not k.startswith('__'))})"
        )
    splits = mat["splits"]
    rows = []
    for k, split in enumerate(splits.flat):
        leaves = list(_walk(split if isinstance(split, np.ndarray) else np.array([split])))
        names = [a for a in leaves if a.dtype == object or a.dtype.kind == "U"]
        labels = [
            a for a in leaves if a.dtype.kind in "iuf" and a.size and set(np.unique(a)) <= {-1, 1}
        ]
        if not labels:
            raise ProtocolError(f"{path}: split {k + 1} has no vector of +1/-1 labels")
        lab = np.asarray(labels[0]).ravel().astype(int)
        n = len(lab)
        names = [np.asarray(a) for a in names if a.size in (n, 2 * n)]
        if len(names) >= 1 and names[0].size == 2 * n:
            a = names[0]
            pairs = a.reshape(2, n) if a.shape[0] == 2 or a.ndim == 1 else a.reshape(n, 2).T
            first, second = pairs[0], pairs[1]
        elif len(names) >= 2:
            first, second = names[0].ravel(), names[1].ravel()
        else:
            raise ProtocolError(
                f"{path}: split {k + 1} has {n} labels but no matching lists of image names"
            )
        for a, b, y in zip(first, second, lab, strict=True):
            rows.append((str(a).strip(), str(b).strip(), int(y == 1), k))
    if not rows:
        raise ProtocolError(f"{path}: 'splits' holds no pairs")
    return protocol_table(rows)
