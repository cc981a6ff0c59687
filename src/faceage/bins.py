"""Age and age-gap bins: one convention and one labelling function for the whole workflow.

Bins are given by their **left edges** in years, strictly increasing: ``[0, 11, 21]`` gives the
bins 0-10, 11-20 and 21+ (a bin ``[a, b)`` of whole years is labelled ``a-(b-1)``, or ``a`` when
it holds one year; the last is ``e+``). Used by ``comparisons.age_bins`` (age ranges of pairs),
``verification.gap_bins`` (age gaps) and ``attributes.age_bins`` (evaluation groups).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_edges(edges: Sequence[int], what: str = "bin edges") -> list[int]:
    out = [int(e) for e in edges]
    if not out or any(b <= a for a, b in zip(out, out[1:], strict=False)):
        raise ValueError(
            f"{what} must be strictly increasing left edges (years), got {list(edges)}"
        )
    return out


def bin_labels(edges: Sequence[int]) -> list[str]:
    """Labels of the bins with left edges ``edges``: [0, 5, 10] -> ["0-4", "5-9", "10+"]."""
    e = check_edges(edges)
    labels = [f"{a}-{b - 1}" if b - 1 > a else f"{a}" for a, b in zip(e, e[1:], strict=False)]
    return labels + [f"{e[-1]}+"]


def bin_index(values, edges: Sequence[int]) -> np.ndarray:
    """Bin number of each value (-1 below the first edge or when the value is missing)."""
    v = np.asarray(values, dtype=float)
    idx = np.searchsorted(np.asarray(check_edges(edges), dtype=float), v, side="right") - 1
    idx[~np.isfinite(v)] = -1
    return idx


def bin_of(values, edges: Sequence[int]) -> np.ndarray:
    """The bin label of each value, as an object array.

    None below the first edge or when the value is missing.
    """
    labels = np.asarray(bin_labels(edges) + [None], dtype=object)
    idx = bin_index(values, edges)
    return labels[np.where(idx >= 0, idx, len(labels) - 1)]
