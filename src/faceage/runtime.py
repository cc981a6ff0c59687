"""Small helpers the Snakefile uses at start-up (no snakemake import here)."""

from __future__ import annotations

import os


def export_src_path(src: str) -> None:
    """Put ``src`` (this package's parent folder) on PYTHONPATH for every job.

    Jobs run in other interpreters (conda envs, model venvs, cluster nodes);
    they inherit the environment, so the package is importable there without
    being installed. This sets the variable; it does not require the user to.
    """
    current = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if src not in current:
        os.environ["PYTHONPATH"] = os.pathsep.join([src] + current)


# glibc's malloc serves an allocation above this size with its own mmap and unmaps it on free.
# By default the threshold moves up (to 32 MB) after the first large free, and the analysis
# steps' freed tables then stay in the heap, counted in the job's RSS: a table dropped before
# the metrics would still weigh on the job's peak (docs/performance.md, "Scale").
MMAP_THRESHOLD = 1 << 20


def export_allocator_settings() -> None:
    """Fix glibc's mmap threshold (``MALLOC_MMAP_THRESHOLD_``) for every job, unless set."""
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(MMAP_THRESHOLD))
