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
