"""The embeddings ``.npz`` files: one vector and the detection facts per image."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from faceage.contracts.tables import DamagedFileError, atomic_path, reading

EMBEDDING_ARRAYS = (
    "image_id",
    "vectors",
    "status",
    "n_faces",
    "box",
    "det_score",
    "route",
    "centre_offset",
)
# How a vector was made (``route``): the model's own detector (or the cleaning stage's
# face); the no-face fallback, either the model's own alignment on a guessed box
# (``fallback_aligned``) or, as the last resort, the unaligned centre crop
# (``fallback_crop``); or the image taken as an aligned crop. Empty when no vector was
# made; ``external`` for a vector read from a user's file (faceage.external). Files written
# before the split say ``fallback`` for the centre crop.
ROUTES = ("detected", "fallback_aligned", "fallback_crop", "aligned", "external", "")
FALLBACK_ROUTES = ("fallback_aligned", "fallback_crop")


def write_embeddings(
    path: str | os.PathLike,
    image_id: list[str] | np.ndarray,
    vectors: np.ndarray,
    status: list[str] | np.ndarray,
    n_faces: np.ndarray,
    box: np.ndarray,
    det_score: np.ndarray,
    route: list[str] | np.ndarray | None = None,
    centre_offset: np.ndarray | None = None,
) -> None:
    """Write one embeddings file (``.npz``, no pickles) atomically.

    ``vectors`` is float32 [N, D], one row per image, NaN where ``status`` is
    not ``"ok"``. ``status`` is ``"ok"`` or a short reason (``no_face``,
    ``undecodable: ...``). ``n_faces`` is the number of faces the model's
    detector found (-1 when the model does not detect), ``box`` float [N, 4]
    (left, top, right, bottom in pixels of the loaded image; NaN when none),
    ``det_score`` the detector's confidence for the face used (NaN when none),
    ``route`` how the vector was made (:data:`ROUTES`; default ``detected``
    where there is a vector), ``centre_offset`` the distance in pixels from the centre
    of the face used to the image centre (NaN when none).
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
        "centre_offset": (
            np.full(n, np.nan, dtype=np.float32)
            if centre_offset is None
            else np.asarray(centre_offset, dtype=np.float32)
        ),
    }
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def read_embeddings(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """An embeddings file as written by :func:`write_embeddings`, checked against the contract.

    A file that cannot be read (cut short, not a ``.npz``) or whose arrays break the contract
    (no ``image_id`` or ``vectors``, vectors not [N, D], an array of another length) is a
    :class:`~faceage.contracts.tables.DamagedFileError` naming it and saying to delete it and
    re-run.
    """
    with reading(path), np.load(path, allow_pickle=False) as data:
        out = {k: data[k] for k in EMBEDDING_ARRAYS if k in data}
    problem = _contract_problem(out)
    if problem:
        raise DamagedFileError(path, problem)
    if "route" not in out:  # files written before routes were recorded
        out["route"] = default_route(out["vectors"])
    out["route"] = np.where(out["route"] == "fallback", "fallback_crop", out["route"])
    if "centre_offset" not in out:  # files written before it was recorded
        out["centre_offset"] = np.full(len(out["image_id"]), np.nan, dtype=np.float32)
    return out


def _contract_problem(arrays: dict[str, np.ndarray]) -> str:
    """What breaks the embeddings contract in ``arrays`` ('' when nothing)."""
    missing = [k for k in ("image_id", "vectors", "status") if k not in arrays]
    if missing:
        return f"no array {', '.join(missing)} (an embeddings file holds {EMBEDDING_ARRAYS})"
    n = len(arrays["image_id"])
    if arrays["vectors"].ndim != 2 or arrays["vectors"].shape[0] != n:
        return f"vectors are {arrays['vectors'].shape}, not [{n} images, dimensions]"
    wrong = [f"{k} has {len(v)}" for k, v in arrays.items() if k != "vectors" and len(v) != n]
    if wrong:
        return f"{n} image ids but {', '.join(wrong)} rows"
    return ""


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
            "centre_offset": emb["centre_offset"],
            "route": emb["route"],
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
