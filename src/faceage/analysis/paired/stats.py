"""The small statistics of the paired comparison: decidability d' (plain and weighted), the
OLS ageing slope and the bootstrap p-value as the bootstrap can state it.

Conventions: :mod:`faceage.analysis.paired`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def decidability(similarity, genuine) -> float:
    """d' = (mean_gen - mean_imp) / sqrt((var_gen + var_imp) / 2), population variances.

    NaN scores are left out; NaN when a class is empty or both variances are zero.
    """
    s = np.asarray(similarity, dtype=np.float64)
    g = np.asarray(genuine).astype(bool)
    ok = np.isfinite(s)
    sg, si = s[ok & g], s[ok & ~g]
    if not len(sg) or not len(si):
        return float("nan")
    den = np.sqrt((sg.var() + si.var()) / 2.0)
    return float((sg.mean() - si.mean()) / den) if den > 0 else float("nan")


def _weighted_dprime(s_gen, wg, s_imp, wi) -> np.ndarray:
    """d' per column of ``s_gen`` / ``s_imp`` (centred score matrices) with pair weights."""
    Wg, Wi = float(wg.sum()), float(wi.sum())
    if Wg <= 0 or Wi <= 0:
        return np.full(s_gen.values.shape[1], np.nan)
    mg = (wg @ s_gen.values) / Wg
    mi = (wi @ s_imp.values) / Wi
    vg = (wg @ s_gen.squares) / Wg - mg**2
    vi = (wi @ s_imp.squares) / Wi - mi**2
    den = np.sqrt(np.maximum((vg + vi) / 2.0, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        d = ((mg + s_gen.centre) - (mi + s_imp.centre)) / den
    return np.where(den > 0, d, np.nan)


@dataclass
class _Centred:
    """Score matrix (pairs x models) centred per column, for stable weighted variances."""

    values: np.ndarray
    squares: np.ndarray
    centre: np.ndarray

    @classmethod
    def of(cls, s: np.ndarray) -> _Centred:
        centre = s.mean(axis=0) if len(s) else np.zeros(s.shape[1])
        c = s - centre
        return cls(c, c**2, centre)


def bootstrap_p_value(diffs) -> float:
    """Two-sided bootstrap p-value of "no difference": min(1, 2 min(P(D <= 0), P(D >= 0)))."""
    d = np.asarray(diffs, dtype=np.float64)
    d = d[np.isfinite(d)]
    if not len(d):
        return float("nan")
    return float(np.clip(2.0 * min(np.mean(d <= 0), np.mean(d >= 0)), 0.0, 1.0))


def p_text(p: float, n_valid: int) -> str:
    """A bootstrap p-value as the bootstrap can state it: ``< 0.001`` (1 / iterations) when no
    iteration crossed zero, never ``0``; empty when there is none."""
    if not np.isfinite(p) or n_valid <= 0:
        return ""
    if p <= 0:
        return f"< {1.0 / n_valid:.2g}"
    return f"{p:.2g}"


def p_reported(p: float, n_valid: int) -> float:
    """The number for the ``p_value`` column: ``p``, or its bound 1 / ``n_valid`` when no
    iteration crossed zero (``p_text`` then reads ``< 1/n_valid``)."""
    if not np.isfinite(p) or n_valid <= 0:
        return p
    return max(p, 1.0 / n_valid)


@dataclass
class OlsSlope:
    """The OLS slope of genuine similarity on the age gap (years), one per model, each genuine
    pair weighted by its person's count in a draw (:meth:`fill`); ``note`` says why there is
    none (fewer than three genuine pairs with a gap, or a single gap)."""

    x: np.ndarray  # centred gaps of the genuine pairs with a known gap
    person: np.ndarray
    y: np.ndarray  # their centred scores, one column per model
    note: str
    column: int = -1

    @classmethod
    def build(cls, pairs: pd.DataFrame, sim: np.ndarray, pa: np.ndarray) -> OlsSlope:
        gap = (
            pd.to_numeric(pairs["age_gap"], errors="coerce").to_numpy(dtype=np.float64)
            if "age_gap" in pairs
            else np.full(len(pairs), np.nan)
        )
        keep = (pairs["genuine"].to_numpy(dtype=int) == 1) & np.isfinite(gap)
        note = ""
        if keep.sum() < 3 or len(np.unique(gap[keep])) < 2:
            note = "too few genuine pairs or gaps"
        x = gap[keep] - (gap[keep].mean() if keep.any() else 0.0)
        y = sim[keep]
        return cls(x, pa[keep], y - (y.mean(axis=0) if len(y) else 0.0), note)

    def fill(self, counts: np.ndarray, ms, out: np.ndarray) -> None:
        if self.note:
            return
        w = counts[self.person].astype(np.float64)
        x = self.x
        W, Sx, Sxx = w.sum(), w @ x, w @ x**2
        den = W * Sxx - Sx**2
        if W > 0 and den > 1e-12 * max(W * Sxx, 1e-300):
            b = (W * ((w * x) @ self.y) - Sx * (w @ self.y)) / den
            out[ms, self.column] = b[ms]
