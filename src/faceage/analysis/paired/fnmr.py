"""FNMR per gap bin (or year of gap) at a deployed threshold, the NIST FRVT convention, for
every model on the common pairs (:func:`deployed_fnmr`). The computation is
:func:`faceage.analysis.operating.fnmr_at_fmr`, the one the per-model ``fnmr.tsv`` uses.

Conventions: :mod:`faceage.analysis.paired`, :mod:`faceage.analysis.operating`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from faceage.analysis.operating import (
    FMR_LEVELS,
    FNMR_COLUMNS,
    OperatingScores,
    fnmr_at_fmr,
    gap_groups,
    year_groups,
)
from faceage.analysis.paired.common import CommonPairs, common_pairs

__all__ = ["deployed_fnmr"]


def _frames(scores, common: bool) -> dict[str, pd.DataFrame]:
    if isinstance(scores, CommonPairs):
        return {m: scores.scores(m) for m in scores.models}
    if common:
        cp = common_pairs(scores)
        return {m: cp.scores(m) for m in cp.models}
    return dict(scores)


def deployed_fnmr(
    scores: Mapping[str, pd.DataFrame] | CommonPairs,
    gap_edges: Sequence[int] | None,
    fmr_levels: Sequence[float] = FMR_LEVELS,
    n_bootstrap: int = 1000,
    seed: int = 0,
    label: str = "fnmr",
    confidence: float = 0.95,
    common: bool = True,
    by_year: bool = False,
    min_year_pairs: int = 100,
    impostors: Mapping[str, pd.DataFrame] | CommonPairs | None = None,
) -> pd.DataFrame:
    """FNMR per gap bin at a deployed threshold (NIST FRVT convention), with bootstrap intervals.

    ``by_year``: per year of gap instead of per bin (``gap_edges`` unused): ``gap_bin`` is the
    gap in years, for the gaps with at least ``min_year_pairs`` genuine pairs (fewer would give
    an interval as wide as the scale; those years are left out).

    Per model and target FMR, **one** threshold is set on the impostor pairs: those of
    ``impostors`` (the operating pool's scores per model; with ``common``, the pool pairs every
    model scored) or, without it, the impostor pairs of ``scores``. FNMR of a gap bin is the
    share of its genuine pairs scoring below that threshold; gap bin ``all`` is every genuine
    pair. Conventions, the estimability rule and the bootstrap (the
    threshold re-set in every iteration): :mod:`faceage.analysis.operating`. With ``common``
    (default) every model is measured on the common pairs (:func:`common_pairs`), and the
    draws, seeded by ``(seed, label)``, are the same for every model; else on its own scored
    pairs. Failures to enrol are not counted as non-matches here (see
    :func:`failure_to_enrol`).

    Returns :data:`~faceage.analysis.operating.FNMR_COLUMNS`.
    """
    frames = _frames(scores, common)
    pools = _frames(impostors, common) if impostors is not None else {}
    parts = []
    for model, df in frames.items():
        ops = OperatingScores.of(df, pools.get(model) if impostors is not None else None)
        groups = [("all", gap_groups(ops.gen_gap, None)[0][1])]
        if by_year:
            groups += year_groups(ops.gen_gap, min_year_pairs)
        elif gap_edges is not None and len(gap_edges):
            groups = gap_groups(ops.gen_gap, gap_edges)
        parts.append(
            fnmr_at_fmr(ops, groups, fmr_levels, n_bootstrap, seed, label, confidence, model)
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=FNMR_COLUMNS)
