"""The data contract between the workflow's stages, written down once.

Every stage reads and writes its tables through the functions here, so the
column names, their order and their types are defined in one place.

Stage files (``<ds>`` is the dataset name from the config):

``results/<ds>/manifest.tsv`` (dataset stage)
    One row per image the adapter understood. Columns ``MANIFEST_COLUMNS``:
    ``image_id`` (stable: derived from the path relative to the dataset root,
    so it survives re-runs and re-orderings), ``path`` (absolute or relative
    to the working directory), ``person`` (identity label, string), ``age``
    (years, integer; may be empty when unknown), ``gender`` (``M``/``F`` or
    empty), ``source`` (the file name as found), ``shard`` (0-based integer:
    persons are split into shards, all images of a person in one shard).
``results/<ds>/rejects.tsv`` (dataset stage)
    Files the adapter could not use: ``source``, ``path``, ``reason``.
``results/<ds>/clean/manifest.tsv`` (clean stage)
    Same columns as the manifest, only the images kept, plus the face facts of
    the cleaning detector: ``n_faces``, ``face_left``, ``face_top``,
    ``face_right``, ``face_bottom`` (pixels in the image as loaded by
    :func:`faceage.images.load_rgb`), ``face_score``.
``results/<ds>/clean/cleaning_report.tsv`` (clean stage)
    One row per removed or flagged image: ``image_id``, ``source``, ``person``,
    ``action`` (``removed``, ``flagged``, ``relabelled``), ``reason`` (a short
    code, see :data:`faceage.clean.REASONS`) and ``detail`` (free text).
``results/<ds>/pairs.tsv`` (comparisons stage)
    ``PAIR_COLUMNS``: ``pair_id``, ``image_a``, ``image_b``, ``person_a``,
    ``person_b``, ``genuine`` (1 same person, 0 different), ``age_a`` <=
    ``age_b`` (years), ``age_gap`` (``age_b - age_a``), ``range_a``, ``range_b``
    (age-range labels from the configured bins), then ``fold`` (the person-disjoint
    fold of the pair for the 10-fold accuracy: both persons of a pair are in
    it; -1 for a pair across folds, empty when the pairs were drawn without
    folds).
``results/<ds>/embeddings/<model>/shard_<k>.npz`` and ``.../<model>.npz``
    Embeddings, see :func:`write_embeddings`: per image the vector (NaN when
    no vector could be made) and the model's detection facts.
``results/<ds>/scores/<model>.tsv`` (scores stage)
    The pair columns plus ``similarity``: cosine similarity of the two
    embeddings (1 = same direction; higher means more alike), empty when one
    of the images has no embedding.

All tables are tab-separated UTF-8 with a header, written atomically (to a
temporary file in the same folder, then renamed), so an interrupted job never
leaves a file that looks complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

MANIFEST_COLUMNS = ["image_id", "path", "person", "age", "gender", "source", "shard"]
REJECT_COLUMNS = ["source", "path", "reason"]
FACE_COLUMNS = ["n_faces", "face_left", "face_top", "face_right", "face_bottom", "face_score"]
CLEAN_COLUMNS = MANIFEST_COLUMNS + FACE_COLUMNS
REPORT_COLUMNS = ["image_id", "source", "person", "action", "reason", "detail"]
PAIR_COLUMNS = [
    "pair_id",
    "image_a",
    "image_b",
    "person_a",
    "person_b",
    "genuine",
    "age_a",
    "age_b",
    "age_gap",
    "range_a",
    "range_b",
]
SCORE_COLUMNS = PAIR_COLUMNS + ["similarity"]

# Status of one image in an embeddings file.
STATUS_OK = "ok"

_DTYPES = {
    "image_id": "string",
    "path": "string",
    "person": "string",
    "age": "Int64",
    "gender": "string",
    "source": "string",
    "shard": "Int64",
    "reason": "string",
    "n_faces": "Int64",
    "face_score": "float64",
    "face_left": "float64",
    "face_top": "float64",
    "face_right": "float64",
    "face_bottom": "float64",
    "action": "string",
    "detail": "string",
    "pair_id": "Int64",
    "image_a": "string",
    "image_b": "string",
    "person_a": "string",
    "person_b": "string",
    "genuine": "Int64",
    "age_a": "Int64",
    "age_b": "Int64",
    "age_gap": "Int64",
    "range_a": "string",
    "range_b": "string",
    "similarity": "float64",
    "sha256": "string",
    "alias_of": "string",
    "aligned": "boolean",
    "fold": "Int64",
}


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
        dtype = _DTYPES.get(col)
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
    return pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, "string")) for c in columns})


def read_manifest(path: str | os.PathLike) -> pd.DataFrame:
    return read_table(path, MANIFEST_COLUMNS)


def write_manifest(df: pd.DataFrame, path: str | os.PathLike) -> None:
    write_table(df, path, MANIFEST_COLUMNS)


class EmptyDatasetError(ValueError):
    """No image survived cleaning: nothing to pair or embed."""


def require_images(clean_manifest: pd.DataFrame, path: str | os.PathLike) -> pd.DataFrame:
    """``clean_manifest`` itself, or :class:`EmptyDatasetError` with the one message users need."""
    if len(clean_manifest) == 0:
        report = Path(path).parent / "cleaning_report.tsv"
        raise EmptyDatasetError(f"no image survived cleaning; see {report}")
    return clean_manifest


def first_copies(table: pd.DataFrame, keep: pd.Series | None = None) -> pd.Series:
    """``alias_of`` per row: the first image id (in row order) among ``keep`` with the same ``sha256``.

    NA for that first id itself, for rows without a hash and for rows not kept.
    """
    keep = pd.Series(True, index=table.index) if keep is None else keep
    hashed = table[keep.to_numpy() & table["sha256"].notna().to_numpy()]
    first = hashed.groupby("sha256", sort=False)["image_id"].transform("first")
    alias = pd.Series(pd.NA, index=table.index, dtype="string")
    alias.loc[first.index] = first.astype("string")
    alias[alias == table["image_id"]] = pd.NA
    return alias


def own_content(manifest: pd.DataFrame) -> pd.DataFrame:
    """The rows that are decoded, inspected and embedded: every image that is no alias.

    An alias (``alias_of`` set: the same bytes as an earlier image id) takes
    its original's inspection and vector.
    """
    if "alias_of" not in manifest:
        return manifest
    return manifest[manifest["alias_of"].isna().to_numpy()]


def read_pairs(path: str | os.PathLike) -> pd.DataFrame:
    return read_table(path, PAIR_COLUMNS)


def write_pairs(df: pd.DataFrame, path: str | os.PathLike) -> None:
    write_table(df, path, PAIR_COLUMNS)


# --- embeddings -------------------------------------------------------------

EMBEDDING_ARRAYS = ("image_id", "vectors", "status", "n_faces", "box", "det_score", "route")
# How a vector was made (``route``): the model's own detector (or the cleaning
# stage's face), the no-face fallback (a centre crop), or the image taken as an
# aligned crop; empty when no vector was made.
ROUTES = ("detected", "fallback", "aligned", "")


def write_embeddings(
    path: str | os.PathLike,
    image_id: list[str] | np.ndarray,
    vectors: np.ndarray,
    status: list[str] | np.ndarray,
    n_faces: np.ndarray,
    box: np.ndarray,
    det_score: np.ndarray,
    route: list[str] | np.ndarray | None = None,
) -> None:
    """Write one embeddings file (``.npz``, no pickles) atomically.

    ``vectors`` is float32 [N, D], one row per image, NaN where ``status`` is
    not ``"ok"``. ``status`` is ``"ok"`` or a short reason (``no_face``,
    ``undecodable: ...``). ``n_faces`` is the number of faces the model's
    detector found (-1 when the model does not detect), ``box`` float [N, 4]
    (left, top, right, bottom in pixels of the loaded image; NaN when none),
    ``det_score`` the detector's confidence for the face used (NaN when none),
    ``route`` how the vector was made (:data:`ROUTES`; default ``detected``
    where there is a vector).
    """
    n = len(image_id)
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != n:
        raise ValueError(f"vectors must be [{n}, D], got {vectors.shape}")
    arrays = {
        "image_id": np.asarray(image_id, dtype=str),
        "vectors": vectors,
        "status": np.asarray(status, dtype=str),
        "n_faces": np.asarray(n_faces, dtype=np.int32),
        "box": np.asarray(box, dtype=np.float32).reshape(n, 4),
        "det_score": np.asarray(det_score, dtype=np.float32),
        "route": np.asarray(route, dtype=str) if route is not None else default_route(vectors),
    }
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def read_embeddings(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        out = {k: data[k] for k in EMBEDDING_ARRAYS if k in data}
    if "route" not in out:  # files written before routes were recorded
        out["route"] = default_route(out["vectors"])
    return out


def default_route(vectors: np.ndarray) -> np.ndarray:
    """``detected`` for every row with a vector, empty for the others."""
    v = np.asarray(vectors)
    ok = np.isfinite(v).all(axis=1) if len(v) else np.zeros(0, bool)
    return np.where(ok, "detected", "")


def expand_aliases(emb: dict[str, np.ndarray], alias_of: dict[str, str]) -> dict[str, np.ndarray]:
    """Add a row for every alias (``{alias id: original id}``), a copy of its original's row."""
    if not alias_of:
        return emb
    row = {iid: i for i, iid in enumerate(emb["image_id"])}
    missing = sorted(a for a, o in alias_of.items() if o not in row)
    if missing:
        raise ValueError(f"aliases of images not in the embeddings, e.g. {missing[:3]}")
    names = sorted(alias_of)
    idx = np.array([row[alias_of[a]] for a in names], dtype=np.int64)
    out = {k: np.concatenate([v, v[idx]]) for k, v in emb.items() if k != "image_id"}
    out["image_id"] = np.concatenate([emb["image_id"], np.asarray(names, dtype=str)])
    return out


def merge_embeddings(
    paths: list[str | os.PathLike], out: str | os.PathLike, alias_of: dict[str, str] | None = None
) -> dict:
    """Concatenate shard embedding files into one, every alias added, sorted by image id."""
    parts = [read_embeddings(p) for p in paths]
    dims = {p["vectors"].shape[1] for p in parts if len(p["image_id"])}
    if len(dims) > 1:
        raise ValueError(f"shards disagree on embedding size: {sorted(dims)}")
    dim = dims.pop() if dims else 0
    merged = {}
    for key in EMBEDDING_ARRAYS:
        arrays = [p[key] for p in parts]
        if key == "vectors":
            arrays = [
                a.reshape(len(p["image_id"]), dim) for a, p in zip(arrays, parts, strict=True)
            ]
        merged[key] = np.concatenate(arrays) if arrays else np.empty(0)
    merged = expand_aliases(merged, alias_of or {})
    order = np.argsort(merged["image_id"], kind="stable")
    merged = {k: v[order] for k, v in merged.items()}
    if len(set(merged["image_id"])) != len(merged["image_id"]):
        raise ValueError("an image id appears in more than one shard")
    write_embeddings(out, **merged)
    return merged


def embeddings_table(emb: dict[str, np.ndarray]) -> pd.DataFrame:
    """The per-image facts of an embeddings file as a table (no vectors)."""
    box = emb["box"].reshape(-1, 4)
    return pd.DataFrame(
        {
            "image_id": emb["image_id"],
            "status": emb["status"],
            "n_faces": emb["n_faces"],
            "box_left": box[:, 0],
            "box_top": box[:, 1],
            "box_right": box[:, 2],
            "box_bottom": box[:, 3],
            "det_score": emb["det_score"],
        }
    )


def write_vectors_csv(emb: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Export the vectors as CSV (image_id, v0..v{D-1}), as the original study did."""
    vectors = emb["vectors"]
    cols = [f"v{i}" for i in range(vectors.shape[1])]
    df = pd.DataFrame(vectors, columns=cols)
    df.insert(0, "image_id", emb["image_id"])
    df.insert(1, "status", emb["status"])
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.7g", lineterminator="\n")
