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
``csv``
    A CSV with header ``image_a,image_b,same,fold`` (``same`` 1/0 or
    true/false; ``fold`` optional: without it, pairs are cut into 10
    contiguous folds in file order as insightface's KFold does), e.g. for
    CACD-VS.

Evaluation (:func:`evaluate_protocol`) uses the workflow's embeddings of the
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
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from faceage.analysis.bootstrap import far_key
from faceage.analysis.verification import FAR_LEVELS, insightface_accuracy, point_metrics
from faceage.contracts import atomic_path, read_embeddings, read_table, write_table

PROTOCOL_COLUMNS = ["image_a", "image_b", "genuine", "fold"]
FORMATS = ("agedb_mat", "lfw", "calfw", "cplfw", "csv")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


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
    else:  # insightface's KFold(10, shuffle=False): contiguous blocks, the first ones one longer
        n = len(df)
        sizes = np.full(n_folds, n // n_folds)
        sizes[: n % n_folds] += 1
        df["fold"] = np.repeat(np.arange(n_folds), sizes)[:n]
    return df


READERS = {
    "agedb_mat": read_agedb_mat,
    "lfw": read_lfw_pairs,
    "calfw": read_calfw_pairs,
    "cplfw": read_calfw_pairs,
    "csv": read_csv_protocol,
}


def read_protocol(path: str | os.PathLike, fmt: str) -> pd.DataFrame:
    """Parse a protocol file of format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in READERS:
        raise ValueError(f"unknown protocol format {fmt!r}; known: {', '.join(FORMATS)}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"protocol file {path} does not exist")
    return READERS[fmt](path)


# --- matching protocol names to the dataset's images ----------------------------------


def _strip_suffix(name: str) -> str:
    low = name.lower()
    for suf in IMAGE_SUFFIXES:
        if low.endswith(suf):
            return name[: -len(suf)]
    return name


def _keys(name: str) -> list[str]:
    """Lookup keys of a name: the path, without image suffix, its file name, without suffix."""
    name = name.replace("\\", "/").strip("/")
    base = PurePosixPath(name).name
    return list(dict.fromkeys([name, _strip_suffix(name), base, _strip_suffix(base)]))


class ImageIndex:
    """Finds a dataset image id (manifest ``image_id``) for a protocol's image name.

    A name matches an id on the relative path, the path without its image
    suffix, the file name, or the file name without suffix (AgeDB's protocol
    names drop ``.jpg``; CALFW names are bare file names), in that order. A
    key shared by several ids is ambiguous and never used.
    """

    def __init__(self, image_ids: Iterable[str]):
        self._maps: list[dict[str, str | None]] = [{}, {}, {}, {}]
        for iid in image_ids:
            iid = str(iid)
            keys = _keys(iid)
            for level, m in enumerate(self._maps):
                key = keys[min(level, len(keys) - 1)]
                if key in m and m[key] != iid:
                    m[key] = None  # ambiguous at this level
                else:
                    m[key] = iid

    def find(self, name: str) -> str | None:
        keys = _keys(str(name))
        for m in self._maps:
            for key in keys:
                iid = m.get(key)
                if iid is not None:
                    return iid
        return None


def protocol_images(pairs: pd.DataFrame) -> list[str]:
    """The distinct image names a protocol uses, in first-use order."""
    return list(
        dict.fromkeys(np.ravel(pairs[["image_a", "image_b"]].to_numpy(dtype=str), order="C"))
    )


def restrict_manifest(
    manifest: pd.DataFrame, pairs: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Only the manifest rows a protocol names (a protocol run embeds only those).

    Returns (restricted manifest, names not found in the manifest).
    """
    index = ImageIndex(manifest["image_id"].astype(str))
    found, missing = set(), []
    for name in protocol_images(pairs):
        iid = index.find(name)
        if iid is None:
            missing.append(name)
        else:
            found.add(iid)
    keep = manifest["image_id"].astype(str).isin(found).to_numpy()
    return manifest[keep].reset_index(drop=True), missing


# --- evaluation ------------------------------------------------------------------------


def protocol_similarity(pairs: pd.DataFrame, emb: dict[str, np.ndarray]) -> pd.DataFrame:
    """Cosine similarity of every protocol pair from an embeddings dict; NaN when unscored.

    Adds ``id_a``/``id_b`` (matched image ids, empty when not found) and
    ``similarity``.
    """
    ids = emb["image_id"].astype(str)
    vec = np.asarray(emb["vectors"], dtype=np.float64)
    norms = np.linalg.norm(vec, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = vec / norms
    row_of = {iid: i for i, iid in enumerate(ids)}
    index = ImageIndex(ids)
    out = pairs.copy()
    ia = [index.find(n) for n in pairs["image_a"].astype(str)]
    ib = [index.find(n) for n in pairs["image_b"].astype(str)]
    ra = np.array([row_of[i] if i is not None else -1 for i in ia], dtype=np.int64)
    rb = np.array([row_of[i] if i is not None else -1 for i in ib], dtype=np.int64)
    ok = (ra >= 0) & (rb >= 0)
    sim = np.full(len(pairs), np.nan)
    if ok.any():
        sim[ok] = np.einsum("ij,ij->i", unit[ra[ok]], unit[rb[ok]])
    out["id_a"] = pd.array(ia, dtype="string")
    out["id_b"] = pd.array(ib, dtype="string")
    out["similarity"] = sim
    return out


def evaluate_protocol(pairs: pd.DataFrame, emb: dict[str, np.ndarray],
                      far_levels=FAR_LEVELS) -> tuple[pd.DataFrame, dict]:  # fmt: skip
    """insightface-style 10-fold accuracy of a protocol with the given embeddings.

    Returns (per-fold table, summary). Pairs without a score (image not in
    the embeddings, or no face found) are left out of ``accuracy``; the
    summary also gives ``accuracy_unscored_wrong``, counting them as errors
    (what a pipeline that must answer every pair would get), and the pooled
    AUC / EER / TAR@FAR for reference.
    """
    scored = protocol_similarity(pairs, emb)
    ok = scored["similarity"].notna().to_numpy()
    res = insightface_accuracy(scored["similarity"].to_numpy()[ok], scored["genuine"].to_numpy()[ok],
                               scored["fold"].to_numpy()[ok])  # fmt: skip
    folds = sorted(scored["fold"].unique())
    used = sorted(scored.loc[ok, "fold"].unique())
    acc_of = (
        dict(zip(used, res["fold_accuracy"], strict=False)) if len(used) == res["acc_folds"] else {}
    )
    thr_of = (
        dict(zip(used, res["fold_threshold"], strict=False))
        if len(used) == res["acc_folds"]
        else {}
    )
    rows, worst = [], []
    for f in folds:
        m = (scored["fold"] == f).to_numpy()
        n_all, n_ok = int(m.sum()), int((m & ok).sum())
        acc = acc_of.get(f, np.nan)
        acc_all = acc * n_ok / n_all if n_all and np.isfinite(acc) else np.nan
        worst.append(acc_all)
        rows.append({"fold": int(f), "n_pairs": n_all, "n_scored": n_ok,
                     "n_genuine": int((m & (scored["genuine"] == 1).to_numpy()).sum()),
                     "threshold": thr_of.get(f, np.nan), "accuracy": acc,
                     "accuracy_unscored_wrong": acc_all})  # fmt: skip
    per_fold = pd.DataFrame(rows)
    worst_a = np.asarray(worst, dtype=float)
    summary = {"n_pairs": int(len(scored)), "n_scored": int(ok.sum()), "n_unscored": int((~ok).sum()),
               "n_folds": res["acc_folds"], "accuracy": res["acc_mean"], "accuracy_std": res["acc_std"],
               "accuracy_unscored_wrong": float(np.nanmean(worst_a)) if np.isfinite(worst_a).any() else np.nan,
               "accuracy_unscored_wrong_std": float(np.nanstd(worst_a)) if np.isfinite(worst_a).any() else np.nan}  # fmt: skip
    pm = point_metrics(
        scored["genuine"].to_numpy()[ok], scored["similarity"].to_numpy()[ok], far_levels
    )
    summary.update({k: pm[k] for k in ["auc", "eer"] + [far_key(f) for f in far_levels]})
    summary["notes"] = pm.get("notes", "")
    return per_fold, summary


def write_protocol_evaluation(protocol_path: str | os.PathLike, fmt: str, embeddings_path: str | os.PathLike,
                              folds_out: str | os.PathLike, summary_out: str | os.PathLike,
                              name: str = "", model: str = "",
                              pairs_out: str | os.PathLike | None = None) -> dict:  # fmt: skip
    """Parse a protocol, score it with one model's embeddings, write fold and summary tables."""
    pairs = read_protocol(protocol_path, fmt)
    emb = read_embeddings(embeddings_path)
    per_fold, summary = evaluate_protocol(pairs, emb)
    summary = {"protocol": name or Path(protocol_path).stem, "format": fmt, "model": model, **summary,
               "convention": "insightface verification.py (10-fold, threshold maximising accuracy on the "
                             "other 9 folds over arange(0, 4, 0.01) of squared L2 distance; std ddof=0)"}  # fmt: skip
    per_fold.insert(0, "model", model)
    per_fold.insert(0, "protocol", summary["protocol"])
    write_table(per_fold, folds_out)
    write_table(pd.DataFrame([summary]), summary_out)
    if pairs_out is not None:
        scored = protocol_similarity(pairs, emb)
        write_table(scored, pairs_out)
    return summary


def write_protocol_manifest(manifest_path: str | os.PathLike, protocol_path: str | os.PathLike, fmt: str,
                            out: str | os.PathLike) -> list[str]:  # fmt: skip
    """Write the manifest restricted to the protocol's images; return the names not found."""
    manifest = read_table(manifest_path)
    pairs = read_protocol(protocol_path, fmt)
    sub, missing = restrict_manifest(manifest, pairs)
    write_table(sub, out)
    return missing


# --- a protocol run: a dataset CSV holding only the protocol's images ------------------------


_NUMBERED = re.compile(r"^(?P<person>.+?)_\d{4}$")


def _lfw_person(rel: str) -> str:
    """Person of an LFW/CALFW/CPLFW image: ``Name_Surname_0003.jpg`` -> ``Name_Surname``."""
    stem = _strip_suffix(PurePosixPath(rel).name)
    m = _NUMBERED.match(stem)
    return m["person"] if m else PurePosixPath(rel).parent.name or stem


def protocol_dataset(protocol_path: str | os.PathLike, fmt: str, images_root: str | os.PathLike,
                     images_format: str) -> tuple[pd.DataFrame, list[str]]:  # fmt: skip
    """The protocol's images as a dataset table (path, person, age, gender); plus names not found.

    ``images_format`` is a dataset adapter (``agedb``, ``fgnet``, ``utkface``,
    ``folders``) that reads person and age from the file names, or ``lfw``
    for LFW/CALFW/CPLFW images (``Name_0001.jpg``; person from the name, no
    age).
    """
    from faceage.datasets import build_manifest
    from faceage.datasets.base import walk_images

    pairs = read_protocol(protocol_path, fmt)
    root = Path(images_root)
    if images_format == "lfw":
        if not root.is_dir():
            raise FileNotFoundError(f"image folder {root} does not exist")
        rels = [rel for rel, reason in walk_images(root) if reason is None]
        manifest = pd.DataFrame({"image_id": rels, "path": [str(root / r) for r in rels],
                                 "person": [_lfw_person(r) for r in rels], "age": pd.NA, "gender": pd.NA})  # fmt: skip
    else:
        manifest, _ = build_manifest(images_format, root)
    sub, missing = restrict_manifest(manifest, pairs)
    out = sub[["path", "person", "age", "gender"]].copy()
    return out, missing


def write_protocol_dataset(protocol_path: str | os.PathLike, fmt: str, images_root: str | os.PathLike,
                           images_format: str, out_csv: str | os.PathLike) -> list[str]:  # fmt: skip
    """Write :func:`protocol_dataset` as a CSV for ``dataset_format: csv``; return the names not found.

    Paths are absolute, so the CSV can live anywhere.
    """
    table, missing = protocol_dataset(protocol_path, fmt, images_root, images_format)
    table["path"] = [str(Path(p).resolve()) for p in table["path"]]
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False)
    return missing


def main(argv: list[str] | None = None) -> int:
    """``python -m faceage.analysis.protocols``: make the dataset CSV of a protocol run."""
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m faceage.analysis.protocols",
        description="Write a dataset CSV (path,person,age,gender) holding only the images a protocol "
        "names, for dataset_format: csv - so a protocol run embeds only those images.",
    )
    ap.add_argument(
        "--protocol", required=True, help="protocol file (e.g. 04_FINAL_protocol_30_years.mat)"
    )
    ap.add_argument("--format", required=True, choices=FORMATS, help="protocol format")
    ap.add_argument("--images", required=True, help="folder of the protocol's images")
    ap.add_argument("--images-format", required=True, choices=["agedb", "fgnet", "utkface", "folders", "lfw"],
                    help="how person and age are read from the image names (lfw: Name_0001.jpg, no age)")  # fmt: skip
    ap.add_argument("--out", required=True, help="CSV to write")
    args = ap.parse_args(argv)
    missing = write_protocol_dataset(
        args.protocol, args.format, args.images, args.images_format, args.out
    )
    n = len(protocol_images(read_protocol(args.protocol, args.format)))
    print(f"{args.out}: {n - len(missing)} of the protocol's {n} images found")
    if missing:
        print(f"not found ({len(missing)}), e.g.: {', '.join(missing[:5])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
