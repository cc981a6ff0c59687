"""insightface's evaluation ``.bin`` files (``insightface_bin``), read without running code.

A ``.bin`` is a pickle; :class:`RestrictedUnpickler` accepts only the types such a file holds.
"""

from __future__ import annotations

import functools
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from faceage.protocols.formats.base import ProtocolError, kfold_blocks, protocol_table


class UnsafePickleError(ProtocolError):
    """A .bin file whose pickle asks for an object such a file never holds."""


def _safe_codecs_encode(text, encoding="latin1"):
    # Python 3 pickles bytes at protocol 2 as _codecs.encode(str, "latin1").
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError("refused: _codecs.encode with unexpected arguments")
    return text.encode("latin1")


_SAFE_DTYPE_KINDS = {"u", "b", "S"}  # uint8 pixels, bool labels, bytes of encoded images


def _safe_dtype(spec, *args):
    dt = np.dtype(spec)
    if dt.kind not in _SAFE_DTYPE_KINDS or (dt.kind == "u" and dt.itemsize != 1):
        raise UnsafePickleError(f"refused: numpy array of dtype {dt} (only uint8, bool and bytes)")
    return dt


def _safe_reconstruct(cls, shape, placeholder):
    # numpy pickles an array as _reconstruct(ndarray, (0,), b"b") + __setstate__ with the
    # real dtype, which is itself unpickled through _safe_dtype.
    if cls is not np.ndarray or placeholder not in (b"b", "b"):
        raise UnsafePickleError(f"refused: numpy _reconstruct({cls!r}, {placeholder!r})")
    return np.ndarray.__new__(np.ndarray, shape, np.uint8)


def _safe_frombuffer(buf, dtype, shape, order):
    return np.frombuffer(buf, dtype=_safe_dtype(dtype)).reshape(shape, order=order)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only bytes, str, list, tuple, bool, int, float and uint8/bool/bytes numpy arrays.

    Plain containers and scalars need no class lookup; every lookup
    (``find_class``) is refused except the few constructors numpy arrays and
    protocol-2 bytes are pickled with, each wrapped so that it can only make
    what such a file holds. Anything else - a ``__reduce__`` that calls
    ``os.system``, an arbitrary class - raises :class:`UnsafePickleError`
    before it is called.
    """

    _ALLOWED = {
        ("_codecs", "encode"): _safe_codecs_encode,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): _safe_dtype,
        ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,
        ("numpy.core.numeric", "_frombuffer"): _safe_frombuffer,
        ("numpy._core.numeric", "_frombuffer"): _safe_frombuffer,
    }

    def find_class(self, module, name):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refused to load {module}.{name}: an insightface .bin holds only encoded images "
                "and booleans; this file asks for other objects (corrupt or malicious). "
                "Nothing was run."
            ) from None


def _as_bytes(item, path, i) -> bytes:
    if isinstance(item, (bytes, bytearray)):
        return bytes(item)
    if isinstance(item, np.ndarray) and item.dtype.kind in "uS":
        return item.tobytes()
    raise ProtocolError(f"{path}: image {i} is a {type(item).__name__}, not encoded image bytes")


@functools.lru_cache(maxsize=4)
def _load_bin(path: str, mtime_ns: int) -> tuple[tuple[bytes, ...], np.ndarray]:
    with open(path, "rb") as fh:
        try:
            obj = RestrictedUnpickler(fh, encoding="bytes").load()
        except UnsafePickleError as exc:
            raise UnsafePickleError(f"{path}: {exc}") from None
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
            raise ProtocolError(f"{path}: not an insightface .bin pickle ({exc})") from exc
    if not (isinstance(obj, (tuple, list)) and len(obj) == 2):
        raise ProtocolError(f"{path}: expected a pair (images, issame), got {type(obj).__name__}")
    images, issame = obj
    images = tuple(_as_bytes(x, path, i) for i, x in enumerate(images))
    same = np.asarray([bool(x) for x in np.ravel(np.asarray(issame, dtype=object))], dtype=bool)
    if len(images) != 2 * len(same):
        raise ProtocolError(f"{path}: {len(images)} images for {len(same)} pairs (need 2 per pair)")
    return images, same


def read_bin(path: str | os.PathLike) -> tuple[tuple[bytes, ...], np.ndarray]:
    """(encoded images, issame) of an insightface ``.bin``, loaded once per process."""
    p = Path(path).resolve()
    return _load_bin(str(p), p.stat().st_mtime_ns)


def bin_image_name(index: int) -> str:
    return f"{index:05d}"


def read_insightface_bin(path: str | os.PathLike, n_folds: int = 10) -> pd.DataFrame:
    """insightface ``.bin`` -> protocol table (images named by their index)."""
    _, same = read_bin(path)
    rows = [
        (bin_image_name(2 * i), bin_image_name(2 * i + 1), int(s), 0) for i, s in enumerate(same)
    ]
    df = protocol_table(rows)
    df["fold"] = kfold_blocks(len(df), n_folds)
    return df
