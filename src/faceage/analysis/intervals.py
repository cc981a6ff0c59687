"""The percentile interval of a bootstrap distribution, the one every analysis reports.

Percentile intervals (2.5 / 97.5 % for 95 %) over the iterations in which the figure exists
(``n_valid``: an iteration in which a subset lost a class gives NaN and is left out); ``se``
is the standard deviation of the bootstrap distribution (ddof = 1)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Interval(NamedTuple):
    lo: float
    hi: float
    se: float
    n_valid: int


NO_INTERVAL = Interval(float("nan"), float("nan"), float("nan"), 0)


def percentile_interval(values, confidence: float = 0.95) -> Interval:
    """The percentile interval of the finite ``values`` (:data:`NO_INTERVAL` when none)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return NO_INTERVAL
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(v, [alpha, 1 - alpha])
    se = float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")
    return Interval(float(lo), float(hi), se, len(v))
