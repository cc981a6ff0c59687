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

import pandas as pd

from faceage.contracts import MANIFEST_COLUMNS, REJECT_COLUMNS
from faceage.datasets.base import Labels, NameProblem, walk_images

ADAPTERS = {
    "agedb": "faceage.datasets.agedb",
    "fgnet": "faceage.datasets.fgnet",
    "utkface": "faceage.datasets.utkface",
    "folders": "faceage.datasets.folders",
    "csv": "faceage.datasets.csvfile",
}

__all__ = ["ADAPTERS", "Labels", "NameProblem", "build_manifest", "assign_shards"]


def assign_shards(manifest: pd.DataFrame, n_shards: int) -> pd.Series:
    """Split persons into ``n_shards`` groups of about equal image counts.

    Greedy longest-first: persons sorted by image count (then name) go one by
    one to the shard holding fewest images so far. Deterministic; all images
    of one person land in the same shard.
    """
    if n_shards < 1:
        raise ValueError("n_shards must be >= 1")
    counts = manifest.groupby("person", sort=True).size()
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    load = [0] * n_shards
    shard_of: dict[str, int] = {}
    for person, count in order:
        k = min(range(n_shards), key=lambda i: (load[i], i))
        shard_of[person] = k
        load[k] += count
    return manifest["person"].map(shard_of).astype("Int64")


def build_manifest(fmt: str, root: str | os.PathLike, n_shards: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
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
                rejects.append({"source": PurePosixPath(rel).name, "path": str(path), "reason": reason})
                continue
            try:
                labels = module.parse_name(PurePosixPath(rel))
            except NameProblem as exc:
                rejects.append({"source": PurePosixPath(rel).name, "path": str(path), "reason": str(exc)})
                continue
            rows.append(labels.row(rel, path))
    manifest = pd.DataFrame(rows, columns=[c for c in MANIFEST_COLUMNS if c != "shard"] + ["race"])
    if manifest["race"].isna().all():
        manifest = manifest.drop(columns="race")
    manifest = manifest.sort_values("image_id", kind="stable").reset_index(drop=True)
    manifest["age"] = pd.array(manifest["age"], dtype="Int64")
    manifest["shard"] = assign_shards(manifest, n_shards) if len(manifest) else pd.array([], dtype="Int64")
    rejects_df = pd.DataFrame(rejects, columns=REJECT_COLUMNS).sort_values("path", kind="stable")
    return manifest, rejects_df.reset_index(drop=True)
