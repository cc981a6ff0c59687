"""Operating points (workflow/rules/verification.smk): FNMR at fixed FMR per gap bin and per year
with every threshold set on the operating impostor pool, and DET curves
(docs/verification.md, "Operating points")."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)

# What the operating points read of a scores table.
OPERATING_COLUMNS = ["pair_id", "person_a", "person_b", "genuine", "age_gap", "similarity"]


def read_pool(input) -> pd.DataFrame:
    """The operating pool's scores (``input.operating``); only the pairs every model scored when
    the rule names ``common_operating``."""
    pool = c.read_compact(input.operating, OPERATING_COLUMNS)
    if "common_operating" in input:
        keep = c.read_table(input.common_operating)["pair_id"]
        pool = pool[pool["pair_id"].isin(keep)].reset_index(drop=True)
    return pool


def operating_points(
    genuine: pd.DataFrame, pool: pd.DataFrame, settings, model: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fnmr per gap bin and ``all``, fnmr per year) of one model: thresholds at every level of
    ``verification.fmr_levels`` set on ``pool``, one bootstrap for both
    tables (:func:`faceage.analysis.operating.fnmr_at_fmr`, the one the paired comparison
    calls: label ``fnmr``, so the same persons are drawn as there)."""
    from faceage.analysis import operating as op

    ops = op.OperatingScores.of(genuine, pool)
    bins = op.gap_groups(ops.gen_gap, settings.gap_bins)
    years = op.year_groups(ops.gen_gap, settings.min_year_pairs)
    levels = sorted({float(f) for f in settings.fmr_levels})
    table = op.fnmr_at_fmr(
        ops,
        bins + years,
        levels,
        settings.bootstrap_iterations,
        settings.seed,
        "fnmr",
        model=model,
    )
    group = np.tile(np.arange(len(bins) + len(years)), len(levels))
    return (
        table[group < len(bins)].reset_index(drop=True),
        table[group >= len(bins)].reset_index(drop=True),
    )


@step
def operating_plots(*, input, output, settings, wildcards):
    """One model's DET curves (one per gap bin, on the pool), FNMR-by-gap and FNMR-by-year
    plots at the fixed FMR levels."""
    from faceage.analysis import operating as op
    from faceage.analysis.comparison import read_result
    from faceage.analysis.det import det_table
    from faceage.plots import paired as fnmr_plots
    from faceage.plots.operating import plot_det

    model = wildcards.model
    scores = c.read_compact(input.scores, ["person_a", "genuine", "age_gap", "similarity"])
    genuine = scores[scores["genuine"] == 1].reset_index(drop=True)
    del scores
    ops = op.OperatingScores.of(genuine, read_pool(input))
    det = det_table(ops, op.gap_groups(ops.gen_gap, settings.gap_bins), model)
    c.write_table(det, output.det)
    plot_det(det, output.det_plot, f"{model}: DET by age gap (operating impostor pool)")
    levels = [float(f) for f in settings.fmr_levels]

    def at_levels(path) -> pd.DataFrame:
        t = read_result(path)
        return t[np.isclose(t["fmr"].to_numpy()[:, None], levels).any(axis=1)]

    fnmr_plots.plot_fnmr_by_gap(at_levels(input.fnmr), output.fnmr_plot)
    fnmr_plots.plot_fnmr_by_year(at_levels(input.fnmr_by_year), output.fnmr_year_plot)
    log.info(
        "%s: DET of %d gap groups on %d pool pairs", model, det["gap_bin"].nunique(), len(ops.imp_s)
    )
