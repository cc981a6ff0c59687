"""A figure with its interval as a paper prints it: ``0.81 [0.69, 0.95]``.

Digits: one column shares one number of decimals, enough to show the narrowest interval of
the column with two significant digits of its width (an interval 0.25 wide: 2 decimals; 0.012
wide: 3), at least :data:`MIN_DECIMALS` and at most :data:`MAX_DECIMALS`; a column without
intervals gets :data:`PLAIN_DECIMALS`. A missing figure is :data:`MISSING` (the summary's
``empty`` column says why).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

MIN_DECIMALS, MAX_DECIMALS, PLAIN_DECIMALS = 2, 4, 3
MISSING = "–"


def decimals(widths: Iterable[float]) -> int:
    """Decimals for a column whose intervals are ``widths`` wide (see the module docstring)."""
    w = [float(x) for x in widths if pd.notna(x) and np.isfinite(x) and float(x) > 0]
    if not w:
        return PLAIN_DECIMALS
    d = 1 - math.floor(math.log10(min(w)))
    return int(min(max(d, MIN_DECIMALS), MAX_DECIMALS))


def number(value, digits: int) -> str:
    """``value`` with ``digits`` decimals; :data:`MISSING` when empty."""
    if value is None or pd.isna(value):
        return MISSING
    return f"{float(value):.{digits}f}"


def with_interval(value, lo, hi, digits: int) -> str:
    """``value [lo, hi]``; the value alone when the interval is empty."""
    if value is None or pd.isna(value):
        return MISSING
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return number(value, digits)
    return f"{number(value, digits)} [{number(lo, digits)}, {number(hi, digits)}]"


def column(table: pd.DataFrame, value: str, lo: str, hi: str) -> list[str]:
    """The cells of one figure of ``table`` (value, interval bounds), one number of decimals."""
    digits = decimals(pd.to_numeric(table[hi], errors="coerce") - table[lo])
    return [
        with_interval(v, a, b, digits)
        for v, a, b in zip(table[value], table[lo], table[hi], strict=True)
    ]


def count(n) -> str:
    """A count with thousands separators (``5,518``); :data:`MISSING` when empty."""
    return MISSING if n is None or pd.isna(n) else f"{int(n):,}"


def column_spread(table: pd.DataFrame, value: str, spread: str) -> list[str]:
    """``value ± spread`` cells (a mean and the standard deviation of the folds), one number of
    decimals: as if the interval were ``2 x spread`` wide."""
    digits = decimals(2 * pd.to_numeric(table[spread], errors="coerce"))
    return [
        MISSING
        if pd.isna(v)
        else number(v, digits) + ("" if pd.isna(sd) else f" ± {number(sd, digits)}")
        for v, sd in zip(table[value], table[spread], strict=True)
    ]
