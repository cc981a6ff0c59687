"""Pairs a protocol must not score: self pairs, contradictory labels, repeated pairs.

A protocol file may name the same two images twice, label one pair both same and different,
or pair an image with itself (which scores a cosine of 1.0 whatever the model). Scored
silently, each one bends the accuracy. :func:`pair_problems` finds them and
:func:`drop_problem_pairs` takes out the ones no accuracy may count, per rule:

* ``self_pair`` - both sides are one image (the same name, or two names that match one
  file): every such pair is dropped, genuine or impostor;
* ``contradictory_labels`` - one unordered pair of images labelled both genuine and impostor:
  every copy is dropped (neither label can be trusted);
* ``duplicate_pair`` - the same unordered pair with the same label again: **kept and scored
  as listed**, and flagged. A standard benchmark is its pair list: its published accuracy
  counts every listed pair, repeats included (a repeat in another fold is part of that fold),
  so dropping them would move our figure away from the published one. Each repeat is one row
  of ``rejects.tsv`` (``...; kept``) and counted in the warning, never silent.

A pair is its two images in either order (cosine similarity is symmetric). Images are
compared by the file they matched (``id_a``/``id_b``), by name where a name matched none.
Every pair found is one row of the protocol run's ``rejects.tsv`` (``reason`` starts
with the code above) and the dataset step logs a warning with the count per reason; the
pair numbers left in ``results/<ds>/protocols/<protocol>.tsv`` keep the file's numbering,
so the gaps show which pairs went.
"""

from __future__ import annotations

import pandas as pd

PAIR_PROBLEMS = {
    "self_pair": "an image paired with itself (scores 1.0 whatever the model): dropped",
    "contradictory_labels": "one pair labelled both same and different: every copy dropped",
    "duplicate_pair": "the same pair with the same label again: kept and scored as listed, flagged",
}
# The problems whose pairs are never scored.
DROPPED = ("self_pair", "contradictory_labels")


def _side(ids: pd.Series, names: pd.Series) -> list[str]:
    """Each side's identity: the matched image id, else the name as the protocol writes it."""
    return [
        f"id:{i}" if isinstance(i, str) else f"name:{n}"
        for i, n in zip(ids.astype(object).where(ids.notna(), None), names, strict=True)
    ]


def pair_problems(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per pair to drop: ``pair``, ``image_a``, ``image_b``, ``reason`` (a code of
    :data:`PAIR_PROBLEMS`) and ``detail``; empty when the protocol is clean.

    ``pairs``: a protocol table with ``pair`` (its number in the file), ``image_a``,
    ``image_b``, ``genuine`` and, when matched, ``id_a``/``id_b``.
    """
    cols = ["pair", "image_a", "image_b", "reason", "detail"]
    if not len(pairs):
        return pd.DataFrame(columns=cols)
    names_a, names_b = pairs["image_a"].astype(str), pairs["image_b"].astype(str)
    a = _side(pairs["id_a"], names_a) if "id_a" in pairs else [f"name:{n}" for n in names_a]
    b = _side(pairs["id_b"], names_b) if "id_b" in pairs else [f"name:{n}" for n in names_b]
    number = pairs["pair"].tolist() if "pair" in pairs else list(range(len(pairs)))
    genuine = pairs["genuine"].astype(int).tolist()
    label = {1: "same", 0: "different"}
    rows = []
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x == y:
            rows.append(
                (
                    i,
                    "self_pair",
                    f"{names_a.iat[i]} with itself, labelled {label[genuine[i]]}",
                )
            )
            continue
        groups.setdefault((min(x, y), max(x, y)), []).append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        labels = {genuine[i] for i in members}
        numbers = ", ".join(str(number[i]) for i in members)
        if len(labels) > 1:
            for i in members:
                rows.append(
                    (
                        i,
                        "contradictory_labels",
                        f"pairs {numbers} name these images, labelled both same and different",
                    )
                )
        else:
            for i in members[1:]:
                rows.append((i, "duplicate_pair", f"repeats pair {number[members[0]]}"))
    rows.sort()
    return pd.DataFrame(
        [
            {
                "pair": number[i],
                "image_a": names_a.iat[i],
                "image_b": names_b.iat[i],
                "reason": reason,
                "detail": detail,
            }
            for i, reason, detail in rows
        ],
        columns=cols,
    )


def drop_problem_pairs(pairs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(``pairs`` without those :func:`pair_problems` finds as one of :data:`DROPPED`, every
    finding - the kept duplicates too)."""
    found = pair_problems(pairs)
    number = pairs["pair"] if "pair" in pairs else pd.Series(range(len(pairs)), index=pairs.index)
    dropped = found.loc[found["reason"].isin(DROPPED), "pair"]
    kept = pairs[~number.isin(dropped).to_numpy()]
    return kept, found


def problem_counts(found: pd.DataFrame) -> dict[str, int]:
    """``{reason: pairs found}`` in :data:`PAIR_PROBLEMS`' order, reasons found only."""
    counts = found["reason"].value_counts() if len(found) else pd.Series(dtype=int)
    return {r: int(counts[r]) for r in PAIR_PROBLEMS if r in counts.index}
