"""Bring your own embeddings and scores: a model whose vectors or pair scores come from a file.

Configuration (``external_models: {name: {...}}``, per dataset; the name is also listed under
``models``) - one of three kinds, told apart by their keys:

* **vectors** (``embeddings:``): one vector per image, keyed by the dataset's image ids or
  paths (``key``). Files: ``.npz`` with arrays ``ids`` and ``vectors``; ``.npy`` (the vectors,
  [N, D]) with ``ids:``, a text file of N ids, one a line; ``.parquet``, ``.csv`` or ``.tsv``
  with the key column (``image_id`` or ``path``, as ``key`` says) and either numeric columns
  (one per dimension, in order) or one column ``vector`` of lists. A ``status`` column, as in
  the workflow's own ``<model>_vectors.csv``, keeps only rows whose status is ``ok``. They
  become ``embeddings/<name>.npz`` (:func:`match_vectors`), so every later stage runs on them.
* **bob** (``scores:``): a bob.bio CSV score file: per side (``probe_``, ``bio_ref_``) an id
  column (the first of ``template_id``, ``reference_id``, ``key``) and ``subject_id``, and
  ``score`` (higher = more alike). A pair is genuine iff ``probe_subject_id ==
  bio_ref_subject_id``; the dataset's own labels decide it in the analysis, and pairs where the
  two disagree are counted (``label_differs``).
* **pyeer** (``genuine:``, ``impostor:``, ``pairs:``): pyeer's genuine and impostor files (one
  score per line) carry no ids, so no pair could be joined to its ages; ``pairs`` names them: a
  CSV or TSV with columns ``image_a`` and ``image_b`` (ids or paths, as ``key`` says) and one
  row per score, the genuine file's lines first, then the impostor file's.

Scores are joined to the workflow's pairs (``pairs.parquet`` and the operating pool) by the
unordered pair of image ids (:class:`ScoreLookup`); a pair the file does not hold is unscored,
as a pair with an image without an embedding is.

Every run writes what did not match (:func:`id_report`, :func:`summary_rows`): images of the
dataset the file does not hold (``not_in_file``), ids of the file that name no image of the
dataset (``not_in_dataset``) or an image that cleaning removed (``removed_by_cleaning``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

KEYS = ("image_id", "path")
VECTOR_SUFFIXES = (".npz", ".npy", ".parquet", ".csv", ".tsv")
# Status of a dataset image the file holds no vector for (embeddings .npz ``status``).
NOT_IN_FILE = "not_in_file"
# How an external vector was made (embeddings .npz ``route``).
ROUTE = "external"
BOB_ID_COLUMNS = ("template_id", "reference_id", "key")
BOB_SIDES = ("probe_", "bio_ref_")
REPORT_COLUMNS = ["item", "reason", "n", "examples"]
ID_COLUMNS = ["id", "reason"]
EXAMPLES = 5


class ExternalFileError(ValueError):
    """A user's file that cannot be used: the message names the configuration key and the
    file."""

    def __init__(self, where: str, path, problem: str):
        super().__init__(f"{where}: {path}: {problem}")


def kind(entry: dict) -> str:
    """``vectors``, ``bob`` or ``pyeer``: what an external_models entry holds (by its keys),
    or '' when it names none or several."""
    kinds = [
        k
        for k, keys in (("vectors", ["embeddings"]), ("bob", ["scores"]), ("pyeer", ["genuine"]))
        if any(entry.get(x) for x in keys)
    ]
    return kinds[0] if len(kinds) == 1 else ""


def files(entry: dict) -> dict[str, str]:
    """``{key: path}`` of the files an entry names (the workflow's inputs)."""
    names = ("embeddings", "ids", "scores", "genuine", "impostor", "pairs")
    return {k: str(entry[k]) for k in names if entry.get(k)}


def entry_problems(name: str, entry: dict, at: str = "") -> list[str]:
    """What is wrong with one ``external_models`` entry, each naming its key (``at`` prefixes
    it): which kind it is, the files it needs and their existence."""
    where = f"{at}external_models.{name}"
    k = kind(entry)
    if not k:
        return [
            f"{where}: give exactly one of embeddings: (a file of vectors), scores: (a bob.bio "
            "CSV score file) or genuine: + impostor: + pairs: (pyeer files and the pairs they "
            "score)"
        ]
    problems = []
    if k == "vectors":
        suffix = Path(entry["embeddings"]).suffix.lower()
        if suffix not in VECTOR_SUFFIXES:
            problems.append(
                f"{where}.embeddings: {entry['embeddings']!r}: a {suffix or 'file without suffix'}"
                f" is not read; give one of {', '.join(VECTOR_SUFFIXES)}"
            )
        if suffix == ".npy" and not entry.get("ids"):
            problems.append(
                f"{where}.ids: a .npy holds no ids; name a text file of image ids (one a line, "
                "in the order of the vectors), or use a .npz with arrays ids and vectors"
            )
    if k == "pyeer":
        problems += [
            f"{where}.{x}: a pyeer entry needs {x}: (genuine:, impostor: and pairs:, whose rows "
            "name the pair each score line is of)"
            for x in ("impostor", "pairs")
            if not entry.get(x)
        ]
    for key, path in files(entry).items():
        if not Path(path).is_file():
            problems.append(f"{where}.{key}: {path!r} does not exist")
    return problems


# Vectors.


def _table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    return pd.read_csv(path, sep=sep, dtype={"image_id": str, "path": str, "status": str})


def read_vectors(
    path, key: str = "image_id", ids_path=None, where: str = "external_models"
) -> tuple[np.ndarray, np.ndarray]:
    """The ids (str) and vectors (float32 [N, D]) of a file of vectors (module docstring),
    checked: ids unique and not empty, every vector finite, every row the same length.
    Errors name ``where`` (the configuration key) and the file."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                missing = [a for a in ("ids", "vectors") if a not in data]
                if missing:
                    raise ExternalFileError(
                        where,
                        path,
                        f"no array {', '.join(missing)} (a .npz of vectors holds ids and "
                        f"vectors; it has {', '.join(data.files) or 'none'})",
                    )
                ids, vectors = data["ids"], data["vectors"]
        elif suffix == ".npy":
            vectors = np.load(path, allow_pickle=False)
            if ids_path is None:
                raise ExternalFileError(where, path, "a .npy needs ids: (a file of ids)")
            ids = np.array(Path(ids_path).read_text().splitlines(), dtype=str)
            if len(ids) != len(vectors):
                raise ExternalFileError(
                    where, path, f"{len(vectors)} vectors but {len(ids)} ids in {ids_path}"
                )
        else:
            ids, vectors = _vectors_of_table(_table(path), key, where, path)
    except ExternalFileError:
        raise
    except (OSError, ValueError) as exc:
        raise ExternalFileError(where, path, f"not readable: {exc}") from None
    return _checked(np.asarray(ids).astype(str), vectors, where, path)


def _vectors_of_table(df: pd.DataFrame, key: str, where: str, path) -> tuple:
    if key not in df.columns:
        raise ExternalFileError(
            where,
            path,
            f"no column {key!r} (key: {key}); columns: {', '.join(map(str, df.columns[:8]))}",
        )
    if "status" in df.columns:
        df = df[df["status"].astype(str) == "ok"]
    rest = [x for x in df.columns if x not in (key, "status")]
    if rest == ["vector"]:
        lengths = {len(v) for v in df["vector"]}
        if len(lengths) > 1:
            raise ExternalFileError(
                where, path, f"the vectors have different lengths: {sorted(lengths)}"
            )
        vectors = np.stack([np.asarray(v, dtype=np.float64) for v in df["vector"]])
    else:
        numeric = df[rest].apply(pd.to_numeric, errors="coerce")
        bad = [x for x in rest if numeric[x].isna().sum() > df[x].isna().sum()]
        if bad:
            raise ExternalFileError(
                where,
                path,
                f"column(s) {', '.join(map(str, bad[:5]))} are not numeric (a table of vectors "
                f"holds the {key} column, numbers, and optionally status)",
            )
        vectors = numeric.to_numpy(dtype=np.float64)
    return df[key].astype(str).to_numpy(), vectors


def _checked(ids: np.ndarray, vectors, where: str, path) -> tuple[np.ndarray, np.ndarray]:
    try:
        vectors = np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ExternalFileError(where, path, f"vectors are not numbers: {exc}") from None
    if vectors.ndim != 2 or vectors.shape[1] == 0:
        raise ExternalFileError(
            where, path, f"vectors are {vectors.shape}, not [images, dimensions]"
        )
    if len(ids) == 0:
        raise ExternalFileError(where, path, "holds no vectors")
    blank = ids[(ids == "") | (ids == "nan")]
    if len(blank):
        raise ExternalFileError(where, path, f"{len(blank)} rows have no id")
    dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique()
    if len(dup):
        raise ExternalFileError(
            where, path, f"{len(dup)} ids appear more than once, e.g. {', '.join(dup[:3])}"
        )
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        raise ExternalFileError(
            where,
            path,
            f"{int(bad.sum())} vectors hold NaN or infinity, e.g. {', '.join(ids[bad][:3])} "
            "(leave an image out of the file to mark it as not embedded)",
        )
    return ids, vectors


# Matching ids to the dataset.


def _norm(p: str) -> str:
    return os.path.normpath(str(p))


class Keys:
    """The dataset's images by the values a user's file names them with: image ids, or paths
    (as the manifest has them, normalised, or relative to ``dataset_path``)."""

    def __init__(self, manifest: pd.DataFrame, key: str = "image_id", dataset_path: str = ""):
        if key not in KEYS:
            raise ValueError(f"key: {key!r}; one of {', '.join(KEYS)}")
        self.key = key
        self.dataset_path = dataset_path
        self.image_id = manifest["image_id"].astype(str).to_numpy()
        alias = manifest["alias_of"] if "alias_of" in manifest else pd.Series(pd.NA, manifest.index)
        self.alias_of = {
            i: str(a) for i, a in zip(self.image_id, alias, strict=True) if pd.notna(a) and a != ""
        }
        self._id_of = {}
        values = manifest[key].astype(str) if key == "path" else self.image_id
        for iid, value in zip(self.image_id, values, strict=True):
            for form in self._forms(value):
                self._id_of.setdefault(form, iid)

    def _forms(self, value: str) -> list[str]:
        if self.key == "image_id":
            return [value]
        forms = [value, _norm(value)]
        if self.dataset_path:
            forms.append(_norm(os.path.relpath(_norm(value), _norm(self.dataset_path))))
        return forms

    def image_of(self, value: str) -> str | None:
        """The image id a file's key names (None: no image of this dataset)."""
        for form in (value, _norm(value)) if self.key == "path" else (value,):
            if form in self._id_of:
                return self._id_of[form]
        return None

    def canonical(self, image_id: str) -> str:
        """An alias's original image (an image itself otherwise)."""
        return self.alias_of.get(image_id, image_id)


def _missing_reason(values, removed: Keys | None) -> list[str]:
    """``not_in_dataset``, or ``removed_by_cleaning`` for keys of images cleaning removed."""
    return [
        "removed_by_cleaning" if removed is not None and removed.image_of(v) else "not_in_dataset"
        for v in values
    ]


def match_vectors(
    ids: np.ndarray,
    vectors: np.ndarray,
    manifest: pd.DataFrame,
    key: str = "image_id",
    dataset_path: str = "",
    all_images: pd.DataFrame | None = None,
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """The arrays of an embeddings file (:func:`faceage.contracts.write_embeddings`) for
    every image of the clean ``manifest`` (aliases take their original's vector), and the
    ids missing on either side (:data:`ID_COLUMNS`; ``all_images``: the manifest before
    cleaning, to tell ``removed_by_cleaning`` from ``not_in_dataset``)."""
    keys = Keys(manifest, key, dataset_path)
    row_of = {}
    unmatched = []
    for i, value in enumerate(ids):
        image = keys.image_of(value)
        if image is None:
            unmatched.append(value)
        else:
            row_of[image] = i
    n, dim = len(keys.image_id), vectors.shape[1]
    out = np.full((n, dim), np.nan, dtype=np.float32)
    status = np.full(n, NOT_IN_FILE, dtype=object)
    for j, iid in enumerate(keys.image_id):
        row = row_of.get(iid, row_of.get(keys.canonical(iid)))
        if row is not None:
            out[j], status[j] = vectors[row], "ok"
    found = status == "ok"
    removed = None
    if all_images is not None:
        gone = all_images[~all_images["image_id"].astype(str).isin(set(keys.image_id))]
        removed = Keys(gone, key, dataset_path)
    missing = pd.DataFrame(
        {
            "id": list(keys.image_id[~found]) + list(unmatched),
            "reason": [NOT_IN_FILE] * int((~found).sum()) + _missing_reason(unmatched, removed),
        },
        columns=ID_COLUMNS,
    )
    arrays = {
        "image_id": keys.image_id,
        "vectors": out,
        "status": status.astype(str),
        "n_faces": np.full(n, -1, dtype=np.int32),
        "box": np.full((n, 4), np.nan, dtype=np.float32),
        "det_score": np.full(n, np.nan, dtype=np.float32),
        "route": np.where(found, ROUTE, ""),
    }
    return arrays, missing


def summary_rows(ids: pd.DataFrame, n_matched: int, item: str = "image") -> list[dict]:
    """Report rows (:data:`REPORT_COLUMNS`) of an id report: the matched count, then one row
    per reason with its count and a few examples."""
    rows = [{"item": item, "reason": "matched", "n": n_matched, "examples": ""}]
    for reason, part in ids.groupby("reason", sort=True):
        examples = ", ".join(part["id"].astype(str).head(EXAMPLES))
        rows.append({"item": item, "reason": reason, "n": len(part), "examples": examples})
    return rows


# Scores.


def _score_column(values: pd.Series, where: str, path, first_line: int = 2) -> np.ndarray:
    """Scores as float64: empty or NaN cells are NaN (unscored); anything else that is not a
    number is an error naming its lines."""
    text = values.astype(str).str.strip()
    num = pd.to_numeric(text, errors="coerce")
    blank = text.str.lower().isin(["", "nan", "none", "<na>"])
    bad = np.flatnonzero(num.isna().to_numpy() & ~blank.to_numpy())
    if len(bad):
        lines = ", ".join(f"line {first_line + i} ({text.iloc[i]!r})" for i in bad[:3])
        raise ExternalFileError(where, path, f"{len(bad)} scores are not numbers: {lines}")
    num = num.to_numpy(dtype=np.float64)
    if np.isinf(num).any():
        raise ExternalFileError(where, path, "scores hold infinity")
    return num


def read_bob(path, where: str = "external_models") -> pd.DataFrame:
    """A bob.bio CSV score file as ``id_a``, ``id_b``, ``file_genuine``, ``score`` (module
    docstring)."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise ExternalFileError(where, path, f"not a readable CSV: {exc}") from None
    cols = {}
    for side in BOB_SIDES:
        idc = next((f"{side}{x}" for x in BOB_ID_COLUMNS if f"{side}{x}" in df.columns), None)
        if idc is None or f"{side}subject_id" not in df.columns:
            raise ExternalFileError(
                where,
                path,
                f"not a bob.bio score file: it needs {side}template_id (or {side}reference_id, "
                f"{side}key), {side}subject_id, the same for the other side, and score; columns:"
                f" {', '.join(df.columns[:8])}",
            )
        cols[side] = idc
    if "score" not in df.columns:
        raise ExternalFileError(where, path, "not a bob.bio score file: no column score")
    return pd.DataFrame(
        {
            "id_a": df[cols["bio_ref_"]].to_numpy(),
            "id_b": df[cols["probe_"]].to_numpy(),
            "file_genuine": (df["probe_subject_id"] == df["bio_ref_subject_id"]).to_numpy(),
            "score": _score_column(df["score"], where, path),
        }
    )


def read_pyeer(genuine, impostor, pairs, where: str = "external_models") -> pd.DataFrame:
    """pyeer's genuine and impostor files and the ``pairs`` they score (module docstring) as
    ``id_a``, ``id_b``, ``file_genuine``, ``score``."""
    scores = []
    for label, path in (("genuine", genuine), ("impostor", impostor)):
        try:
            lines = pd.Series(Path(path).read_text().split(), dtype=str)
        except OSError as exc:
            raise ExternalFileError(f"{where}.{label}", path, f"not readable: {exc}") from None
        scores.append(_score_column(lines, f"{where}.{label}", path, first_line=1))
    try:
        sep = "\t" if Path(pairs).suffix.lower() == ".tsv" else ","
        ids = pd.read_csv(pairs, sep=sep, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise ExternalFileError(f"{where}.pairs", pairs, f"not readable: {exc}") from None
    if not {"image_a", "image_b"} <= set(ids.columns):
        raise ExternalFileError(
            f"{where}.pairs", pairs, "needs columns image_a and image_b (one row per score)"
        )
    n_gen, n_imp = len(scores[0]), len(scores[1])
    if len(ids) != n_gen + n_imp:
        raise ExternalFileError(
            f"{where}.pairs",
            pairs,
            f"{len(ids)} rows, but the score files hold {n_gen} genuine + {n_imp} impostor "
            f"= {n_gen + n_imp} scores (one row per score, genuine first)",
        )
    return pd.DataFrame(
        {
            "id_a": ids["image_a"].to_numpy(),
            "id_b": ids["image_b"].to_numpy(),
            "file_genuine": np.r_[np.ones(n_gen, bool), np.zeros(n_imp, bool)],
            "score": np.r_[scores[0], scores[1]],
        }
    )


def _pair_key(a, b) -> np.ndarray:
    a, b = np.asarray(a, dtype=str), np.asarray(b, dtype=str)
    lo, hi = np.where(a <= b, a, b), np.where(a <= b, b, a)
    return np.char.add(np.char.add(lo, "\t"), hi) if len(lo) else np.array([], dtype=str)


class ScoreLookup:
    """The scores of a file of scored pairs, by the unordered pair of the dataset's image ids
    (aliases as their originals); built by :meth:`of`."""

    def __init__(self, keys: Keys, table: pd.DataFrame, missing: pd.DataFrame):
        self.keys = keys
        self.table = table  # id_a, id_b (image ids), file_genuine, score, pair (key)
        self.index = pd.Index(table["pair"])
        self.missing = missing  # ID_COLUMNS: ids of the file that name no image
        self.used = np.zeros(len(table), bool)  # pairs of the file some pairs table holds
        self.differs = np.zeros(len(table), bool)  # ... whose genuine label differs there

    @classmethod
    def of(
        cls,
        scores: pd.DataFrame,
        manifest: pd.DataFrame,
        key: str = "image_id",
        dataset_path: str = "",
        all_images: pd.DataFrame | None = None,
        where: str = "external_models",
        path="",
    ) -> ScoreLookup:
        """``scores`` (:func:`read_bob`, :func:`read_pyeer`) matched to the clean
        ``manifest``'s images; a pair given twice is an error naming it."""
        keys = Keys(manifest, key, dataset_path)
        a = [keys.image_of(v) for v in scores["id_a"]]
        b = [keys.image_of(v) for v in scores["id_b"]]
        ok = np.array([x is not None and y is not None for x, y in zip(a, b, strict=True)], bool)
        unknown = sorted(
            {v for v, i in zip(scores["id_a"], a, strict=True) if i is None}
            | {v for v, i in zip(scores["id_b"], b, strict=True) if i is None}
        )
        removed = None
        if all_images is not None:
            gone = all_images[~all_images["image_id"].astype(str).isin(set(keys.image_id))]
            removed = Keys(gone, key, dataset_path)
        missing = pd.DataFrame(
            {"id": unknown, "reason": _missing_reason(unknown, removed)}, columns=ID_COLUMNS
        )
        t = scores[ok].copy()
        t["id_a"] = [keys.canonical(i) for i in np.asarray(a, dtype=object)[ok]]
        t["id_b"] = [keys.canonical(i) for i in np.asarray(b, dtype=object)[ok]]
        t["pair"] = _pair_key(t["id_a"], t["id_b"])
        dup = t["pair"][t["pair"].duplicated()]
        if len(dup):
            first = dup.iloc[0].replace("\t", " and ")
            raise ExternalFileError(
                where, path, f"{dup.nunique()} pairs are scored more than once, e.g. {first}"
            )
        return cls(keys, t.reset_index(drop=True), missing)

    def __call__(self, pairs: pd.DataFrame) -> np.ndarray:
        """The file's score of each pair (NaN where the file has none), float64; notes which
        of the file's pairs were used and where its labels differ from the pairs'."""
        canon = _pair_key(
            [self.keys.canonical(x) for x in pairs["image_a"].astype(str)],
            [self.keys.canonical(x) for x in pairs["image_b"].astype(str)],
        )
        pos = self.index.get_indexer(canon)
        out = np.full(len(pairs), np.nan)
        hit = pos >= 0
        out[hit] = self.table["score"].to_numpy()[pos[hit]]
        self.used[pos[hit]] = True
        genuine = pairs["genuine"].astype(bool).to_numpy()
        differs = hit & (self.table["file_genuine"].to_numpy()[np.maximum(pos, 0)] != genuine)
        self.differs[pos[differs]] = True
        return out

    def images_not_in_file(self) -> list[str]:
        """The dataset's images that no pair of the file holds."""
        named = set(self.table["id_a"]) | set(self.table["id_b"])
        return [i for i in self.keys.image_id if self.keys.canonical(i) not in named]

    def id_report(self) -> pd.DataFrame:
        """Images missing on either side (:data:`ID_COLUMNS`)."""
        mine = pd.DataFrame({"id": self.images_not_in_file(), "reason": NOT_IN_FILE})
        return pd.concat([mine, self.missing], ignore_index=True)[ID_COLUMNS]

    def summary(self, scored: dict[str, tuple[int, int]]) -> list[dict]:
        """Report rows: the images (as :func:`summary_rows`), then per pairs table
        (``scored``: {table: (scored, not in file)}) the pairs scored and not, the file's pairs
        that are in no table, and the pairs whose labels differ."""
        ids = self.id_report()
        n_images = len(self.keys.image_id) - int((ids["reason"] == NOT_IN_FILE).sum())
        rows = summary_rows(ids, n_images)
        for table, (n_scored, n_missing) in scored.items():
            rows.append({"item": f"pair ({table})", "reason": "scored", "n": n_scored})
            rows.append({"item": f"pair ({table})", "reason": NOT_IN_FILE, "n": n_missing})
        for reason, mask in (("in_no_pairs_table", ~self.used), ("label_differs", self.differs)):
            pairs = self.table.loc[mask, "pair"]
            examples = ", ".join(pairs.head(EXAMPLES).str.replace("\t", " & "))
            rows.append(
                {"item": "pair (file)", "reason": reason, "n": len(pairs), "examples": examples}
            )
        return [{"examples": "", **r} for r in rows]
