"""Scores split by the gender both persons of a pair share (:func:`split_by_gender`).

Conventions: :mod:`faceage.analysis.paired`."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from faceage.analysis.paired.common import CommonPairs
from faceage.analysis.paired.differences import paired_comparison

MIN_GENDER_PERSONS = 10
BY_GENDER_LEAD = ["gender", "model", "subset", "label", "metric", "estimate"]


def _person_gender(gender) -> pd.Series:
    """person -> gender label (NA when unknown or when a person's labels disagree)."""
    if isinstance(gender, pd.DataFrame):
        t = gender[["person", "gender"]].copy()
    elif isinstance(gender, pd.Series):
        t = pd.DataFrame({"person": gender.index, "gender": gender.to_numpy()})
    else:
        t = pd.DataFrame({"person": list(gender), "gender": list(dict(gender).values())})
    t["person"] = t["person"].astype(str)
    lab = t["gender"].astype("string").str.strip()
    t["gender"] = lab.mask(lab == "")
    t = t.dropna(subset=["gender"])
    per = t.groupby("person")["gender"].agg(lambda x: x.iloc[0] if x.nunique() == 1 else pd.NA)
    return per


def split_by_gender(
    scores: pd.DataFrame, gender, min_persons: int = MIN_GENDER_PERSONS
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Scores split by gender: the pairs whose two persons share a gender label.

    ``gender``: person -> gender as a mapping, a Series indexed by person, or a table with
    ``person`` and ``gender`` (e.g. the manifest, one row per image). A person with no label, or
    with disagreeing labels, is unknown; impostor pairs across genders or with an unknown person
    are in no subset. A gender with fewer than ``min_persons`` persons in the scores is skipped.
    Returns ({gender: scores rows}, summary) - summary: one row per gender plus ``unknown``, with
    ``n_persons``, ``n_genuine``, ``n_impostor``, ``used`` and ``note`` (why a gender was
    skipped, with the persons per gender).
    """
    persons = pd.unique(pd.concat([scores["person_a"], scores["person_b"]]).astype(str))
    per = _person_gender(gender).reindex(persons)
    ga_s = per.reindex(scores["person_a"].astype(str))
    gb_s = per.reindex(scores["person_b"].astype(str))
    known_a, known_b = ga_s.notna().to_numpy(), gb_s.notna().to_numpy()
    ga = ga_s.astype(object).where(known_a, "").to_numpy(dtype=object)
    gb = gb_s.astype(object).where(known_b, "").to_numpy(dtype=object)
    same = known_a & known_b & (ga == gb)
    counts = per.value_counts(dropna=True)
    n_unknown = int(per.isna().sum())
    tally = ", ".join(f"{k}: {v}" for k, v in counts.items()) + (
        f", unknown: {n_unknown}" if n_unknown else ""
    )
    gen = scores["genuine"].to_numpy(dtype=int) == 1
    subsets: dict[str, pd.DataFrame] = {}
    rows = []
    if counts.empty:
        rows.append(
            {
                "gender": "unknown",
                "n_persons": n_unknown,
                "n_genuine": int(gen.sum()),
                "n_impostor": int((~gen).sum()),
                "used": False,
                "note": f"no gender labels for any of the {len(persons)} persons: not split",
            }
        )
        return subsets, pd.DataFrame(rows)
    for lab, n_p in counts.items():
        m = same & (ga == lab)
        used = int(n_p) >= min_persons
        note = (
            ""
            if used
            else (f"skipped: {n_p} persons of gender {lab}, needs >= {min_persons} ({tally})")
        )
        if used:
            subsets[str(lab)] = scores[m]
        rows.append(
            {
                "gender": str(lab),
                "n_persons": int(n_p),
                "n_genuine": int((m & gen).sum()),
                "n_impostor": int((m & ~gen).sum()),
                "used": used,
                "note": note,
            }
        )
    if n_unknown:
        m_unk = ~known_a | ~known_b
        rows.append(
            {
                "gender": "unknown",
                "n_persons": n_unknown,
                "n_genuine": int((m_unk & gen).sum()),
                "n_impostor": int((m_unk & ~gen).sum()),
                "used": False,
                "note": f"no (or disagreeing) gender label; pairs left out ({tally})",
            }
        )
    return subsets, pd.DataFrame(rows)


def by_gender(
    common: CommonPairs,
    gender,
    gap_edges: Sequence[int] | None,
    fmr_levels: Sequence[float],
    impostors: str,
    n_bootstrap: int,
    seed: int,
    min_persons: int = MIN_GENDER_PERSONS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per gender (:func:`split_by_gender` of the common pairs) the models' AUC rows of
    :func:`paired_comparison` and their paired AUC differences (``model`` minus
    ``minus_model``), each gender with its own draws (label ``paired:gender:<gender>``).
    Returns (table, the split's summary); the table is empty with :data:`BY_GENDER_LEAD`
    when no gender was used."""
    groups, summary = split_by_gender(common.pairs, gender, min_persons)
    parts = []
    for lab, rows in groups.items():
        res = paired_comparison(
            {m: common.scores(m).loc[rows.index] for m in common.models},
            gap_edges,
            fmr_levels=fmr_levels,
            impostors=impostors,
            n_bootstrap=n_bootstrap,
            seed=seed,
            label=f"paired:gender:{lab}",
            slope=False,
        )
        metrics = res.per_model[res.per_model["metric"] == "auc"].assign(gender=lab)
        diffs = res.differences[res.differences["metric"] == "auc"].rename(
            columns={"model_a": "model", "model_b": "minus_model"}
        )
        parts += [metrics, diffs.assign(gender=lab)]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=BY_GENDER_LEAD)
    return table[["gender"] + [k for k in table.columns if k != "gender"]], summary
