"""The overall FNMR at FMR f of the paired comparison (computed here as TAR = 1 - FNMR), its
threshold set on
the operating impostor pool under the paired bootstrap's person weights (:class:`PoolTar`).

The same rule as :func:`faceage.analysis.operating.fnmr_at_fmr` (one threshold per model on the
pool pairs every model scored, ties never split, TAR = share of genuine pairs at or above it);
here evaluated inside the paired bootstrap, so that the differences between models are paired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceage.analysis.operating import ImpostorThreshold, _weight_below


@dataclass
class PoolTar:
    """Per model: the pool's thresholds and the genuine scores sorted once."""

    thresholds: list[ImpostorThreshold]
    genuine: list[tuple[np.ndarray, np.ndarray]]  # (sorted scores, person codes int32)
    n_genuine: np.ndarray  # genuine pairs per person code
    n_pool: int

    @classmethod
    def build(cls, gen_sim, gen_p, pool_sim, pool_a, pool_b, n_persons: int) -> PoolTar:
        """``gen_sim``/``pool_sim``: [pairs, models] scores; person codes of one code space."""
        thresholds, genuine = [], []
        for m in range(gen_sim.shape[1]):
            thresholds.append(ImpostorThreshold.build(pool_sim[:, m], pool_a, pool_b))
            order = np.argsort(gen_sim[:, m], kind="stable")
            genuine.append((gen_sim[order, m], np.asarray(gen_p)[order].astype(np.int32)))
        n_gen = np.bincount(np.asarray(gen_p, dtype=np.int64), minlength=n_persons)
        return cls(thresholds, genuine, n_gen, len(pool_sim))

    def tar(self, m: int, counts: np.ndarray, far: float) -> float:
        """TAR of model ``m`` at the pool's threshold for FMR ``far`` under person ``counts``."""
        thr, _ = self.thresholds[m].thresholds(counts, np.array([far]))
        total = float(counts @ self.n_genuine)
        if not np.isfinite(thr[0]) or total <= 0:
            return float("nan")
        s, p = self.genuine[m]
        below = np.empty(1, dtype=np.int64)
        _weight_below(counts, p, np.searchsorted(s, thr, side="left"), below)
        return 1.0 - below[0] / total
