"""What the rows of a manifest mean beyond their columns: aliases, and an empty dataset."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


class EmptyDatasetError(ValueError):
    """No image survived cleaning: nothing to pair or embed."""


def require_images(clean_manifest: pd.DataFrame, path: str | os.PathLike) -> pd.DataFrame:
    """``clean_manifest`` itself, or :class:`EmptyDatasetError` with the one message users need."""
    if len(clean_manifest) == 0:
        report = Path(path).parent / "cleaning_report.tsv"
        raise EmptyDatasetError(f"no image survived cleaning; see {report}")
    return clean_manifest


def first_copies(table: pd.DataFrame, keep: pd.Series | None = None) -> pd.Series:
    """``alias_of`` per row: the first image id (row order) among ``keep`` with that ``sha256``.

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
