"""Standard verification protocols as inputs, so published numbers can be reproduced.

Every parser returns the same table (:data:`PROTOCOL_COLUMNS`): one row per
pair in the file's order, ``image_a`` and ``image_b`` (image names as the
protocol writes them), ``genuine`` (1 same person, 0 different) and ``fold``
(0-based).

Formats (``format`` in the config):

``agedb_mat``
    AgeDB's ``04_FINAL_protocol_<5|10|20|30>_years.mat``: a MATLAB struct array
    ``splits`` of 10 splits; each holds the 2 x 600 image names (without
    ``.jpg``) and 600 labels +1/-1. Split *k* is fold *k*. The parser does not
    depend on the struct's field names: in each split it takes the array of
    names (2 x N, N x 2, or two lists of N) and the vector of +1/-1 labels.
``lfw``
    LFW's ``pairs.txt``: a header ``<sets> <n>``, then per set n lines
    ``name i j`` (same person) and n lines ``name1 i name2 j`` (different);
    images ``name/name_000i.jpg``; set *k* is fold *k*. A header with one
    number (``pairsDevTest.txt``) is one fold.
``calfw`` / ``cplfw``
    Two lines per pair, ``image label``; the label on the pair's first line
    is 0 for different persons and non-zero for the same person (CALFW
    numbers its genuine pairs). 3000 genuine then 3000 impostor pairs; fold
    *k* takes the *k*-th tenth of each class (300 + 300).
``insightface_bin``
    insightface's evaluation files (``agedb_30.bin``, ``calfw.bin``,
    ``cplfw.bin``, ``lfw.bin``, ``cfp_fp.bin``): a pickle of (list of encoded
    112 x 112 aligned images, list of issame booleans); pair *i* is images
    2i and 2i + 1; folds as insightface's unshuffled 10-fold split. Image
    names are ``<index>`` (5 digits) and the images are read from the file
    itself (:func:`bin_images`), through :class:`RestrictedUnpickler`, which
    accepts only the types such a file holds.
``csv``
    A CSV with header ``image_a,image_b,same,fold`` (``same`` 1/0 or
    true/false; ``fold`` optional: without it, pairs are cut into 10
    contiguous folds in file order as insightface's KFold does), e.g. for
    CACD-VS.

Evaluation (:func:`faceage.protocols.evaluation.evaluate_protocol`) uses the workflow's embeddings of the
protocol's images and follows insightface's ``verification.py`` (see
:func:`faceage.analysis.verification.insightface_accuracy`), not FaceX-Zoo's:
insightface chooses the threshold maximising accuracy on the 9 training folds
from a fixed grid and reports the population standard deviation of the 10
fold accuracies; FaceX-Zoo maximises TPR - FPR on a grid spanning the scores
and reports the standard error (``std(ddof=1) / sqrt(10)``). insightface also
embeds each image and its mirror image and adds the two vectors; our models
embed each image once, which can cost a few tenths of a percent.
"""

from __future__ import annotations

import csv
import functools
import os
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

PROTOCOL_COLUMNS = ["image_a", "image_b", "genuine", "fold"]
FORMATS = ("agedb_mat", "lfw", "calfw", "cplfw", "csv", "insightface_bin")


class ProtocolError(ValueError):
    """A protocol file that does not look like its format."""


def _table(rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=PROTOCOL_COLUMNS)
    df["genuine"] = df["genuine"].astype("int64")
    df["fold"] = df["fold"].astype("int64")
    return df


# --- AgeDB .mat ----------------------------------------------------------------


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
    """AgeDB protocol ``.mat`` -> protocol table (see module docstring)."""
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
    return _table(rows)


# --- LFW pairs.txt ----------------------------------------------------------------


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
    return _table(rows)


# --- CALFW / CPLFW ----------------------------------------------------------------


def class_folds(genuine: np.ndarray, n_folds: int = 10) -> np.ndarray:
    """Fold per pair: the k-th tenth (in file order) of each class goes to fold k."""
    genuine = np.asarray(genuine).astype(bool)
    folds = np.empty(len(genuine), dtype=np.int64)
    for cls in (True, False):
        idx = np.flatnonzero(genuine == cls)
        folds[idx] = np.arange(len(idx)) * n_folds // max(len(idx), 1)
    return folds


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
    df = _table(rows)
    df["fold"] = class_folds(df["genuine"].to_numpy(), n_folds)
    return df


# --- generic CSV ---------------------------------------------------------------------


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
    df = _table(rows)
    if "fold" in fields and all(f != "" for f in folds):
        codes, _ = pd.factorize(pd.Series(folds), sort=False)
        df["fold"] = codes.astype("int64")
    else:
        df["fold"] = kfold_blocks(len(df), n_folds)
    return df


def kfold_blocks(n: int, n_folds: int = 10) -> np.ndarray:
    """insightface's ``KFold(n_folds, shuffle=False)``: contiguous blocks, the first ones one longer."""
    sizes = np.full(n_folds, n // n_folds)
    sizes[: n % n_folds] += 1
    return np.repeat(np.arange(n_folds, dtype=np.int64), sizes)[:n]


# --- insightface .bin ------------------------------------------------------------------


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
                "and booleans; this file asks for other objects (corrupt or malicious). Nothing was run."
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
    df = _table(rows)
    df["fold"] = kfold_blocks(len(df), n_folds)
    return df


READERS = {
    "agedb_mat": read_agedb_mat,
    "lfw": read_lfw_pairs,
    "calfw": read_calfw_pairs,
    "cplfw": read_calfw_pairs,
    "csv": read_csv_protocol,
    "insightface_bin": read_insightface_bin,
}


def read_protocol(path: str | os.PathLike, fmt: str) -> pd.DataFrame:
    """Parse a protocol file of format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in READERS:
        raise ValueError(f"unknown protocol format {fmt!r}; known: {', '.join(FORMATS)}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"protocol file {path} does not exist")
    return READERS[fmt](path)
