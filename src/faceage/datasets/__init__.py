"""Dataset adapters: a folder of face images -> one manifest (+ rejects).

An adapter is a module in this package with a ``parse_name(rel)`` function
that turns a file's path relative to the dataset root into
:class:`Labels`, or raises :class:`NameProblem` with a reason. Adapters that
are not driven by file names (``csv``) define ``build(root)`` instead.
Adding a format is one new module plus one line in :data:`ADAPTERS`.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from faceage.contracts import MANIFEST_COLUMNS, REJECT_COLUMNS, first_copies
from faceage.datasets.base import REJECT_REASONS, Labels, NameProblem, walk_images

ADAPTERS = {
    "agedb": "faceage.datasets.agedb",
    "cacd": "faceage.datasets.cacd",
    "fgnet": "faceage.datasets.fgnet",
    "utkface": "faceage.datasets.utkface",
    "folders": "faceage.datasets.folders",
    "csv": "faceage.datasets.csvfile",
}
# The adapters that read labels from each file's path (``parse_name``, not ``build``): they are
# also the label parsers a protocol run may name (``protocols[].labels``).
NAME_ADAPTERS = tuple(
    name
    for name, module in ADAPTERS.items()
    if hasattr(importlib.import_module(module), "parse_name")
)
# Every ``dataset_format`` of the workflow: the synthetic demo (drawn by the workflow, read as
# folders), the adapters, and a protocol run (the images the protocols name). The schema's enum,
# the docs tables and config/README.md are checked against it (tests/test_registries.py).
DATASET_FORMATS = ("demo", *ADAPTERS, "protocol")

__all__ = [
    "ADAPTERS",
    "DATASET_FORMATS",
    "NAME_ADAPTERS",
    "Labels",
    "NameProblem",
    "REJECT_REASONS",
    "build_manifest",
    "assign_shards",
    "finish_manifest",
]


def assign_shards(manifest: pd.DataFrame, n_shards: int) -> pd.Series:
    """Shard per image: equal numbers of images to decode and embed (+-1), whatever the labels.

    Only images with their own content are counted (an alias - ``alias_of``
    set - is never decoded or embedded; it takes its original's shard).
    The images, in manifest order (sorted by image id), are cut into
    ``n_shards`` contiguous blocks whose sizes differ by at most one, so a
    dataset in which every image carries the same person label still uses
    every core. Pairs and person-level analyses group by person, not shard.
    """
    if n_shards < 1:
        raise ValueError("n_shards must be >= 1")
    n = len(manifest)
    alias_of = (
        manifest["alias_of"] if "alias_of" in manifest else pd.Series(pd.NA, index=manifest.index)
    )
    own = alias_of.isna().to_numpy()
    k = int(own.sum())
    sizes = np.full(n_shards, k // n_shards)
    sizes[: k % n_shards] += 1
    shard = np.zeros(n, dtype=np.int64)
    shard[own] = np.repeat(np.arange(n_shards), sizes)
    if (~own).any():
        of = dict(zip(manifest["image_id"].to_numpy()[own], shard[own], strict=True))
        shard[~own] = [of[a] for a in alias_of[~own]]
    return pd.Series(shard, index=manifest.index).astype("Int64")


def mark_aliases(manifest: pd.DataFrame) -> pd.DataFrame:
    """Add ``sha256`` (of each file's bytes) and ``alias_of`` (the first image id with those bytes).

    Byte-identical files are aliases: decoded, detected and embedded once (as
    the first id, in image-id order), every name then gets that vector. A
    file that cannot be read has no hash and no alias; only regular files are opened, and
    no more than :data:`faceage.images.MAX_FILE_BYTES` of one is read.
    """
    from faceage.images import MAX_FILE_BYTES, ImageError, file_digest

    digests = []
    for path in manifest["path"]:
        try:
            digests.append(file_digest(path, MAX_FILE_BYTES))
        except (OSError, ValueError, ImageError):
            digests.append(None)
    out = manifest.copy()
    out["sha256"] = pd.array(digests, dtype="string")
    out["alias_of"] = first_copies(out)
    return out


def finish_manifest(manifest: pd.DataFrame, n_shards: int) -> pd.DataFrame:
    """Sort by image id, mark aliases, assign shards: the last step of every manifest."""
    manifest = manifest.sort_values("image_id", kind="stable").reset_index(drop=True)
    manifest["age"] = pd.array(manifest["age"], dtype="Int64")
    manifest = mark_aliases(manifest)
    manifest["shard"] = assign_shards(manifest, n_shards)
    return manifest


def build_manifest(
    fmt: str, root: str | os.PathLike, n_shards: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the adapter ``fmt`` on ``root``; return (manifest, rejects)."""
    if fmt not in ADAPTERS:
        raise ValueError(f"unknown dataset format {fmt!r}; known: {', '.join(sorted(ADAPTERS))}")
    module = importlib.import_module(ADAPTERS[fmt])
    root = Path(root)
    if hasattr(module, "build"):
        rows, rejects = module.build(root)
    else:
        if not root.is_dir():
            raise FileNotFoundError(f"dataset folder {root} does not exist")
        rows, rejects = [], []
        for rel, reason in walk_images(root):
            path = root / Path(*PurePosixPath(rel).parts)
            if reason:
                rejects.append(
                    {"source": PurePosixPath(rel).name, "path": str(path), "reason": reason}
                )
                continue
            try:
                labels = module.parse_name(PurePosixPath(rel))
            except NameProblem as exc:
                rejects.append(
                    {"source": PurePosixPath(rel).name, "path": str(path), "reason": str(exc)}
                )
                continue
            rows.append(labels.row(rel, path))
    manifest = pd.DataFrame(rows, columns=[c for c in MANIFEST_COLUMNS if c != "shard"] + ["race"])
    if manifest["race"].isna().all():
        manifest = manifest.drop(columns="race")
    manifest = finish_manifest(manifest, n_shards)
    rejects_df = pd.DataFrame(rejects, columns=REJECT_COLUMNS).sort_values("path", kind="stable")
    return manifest, rejects_df.reset_index(drop=True)
