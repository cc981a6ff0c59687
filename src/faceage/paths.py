"""Where the workflow writes logs and benchmarks: the one place their names are made and read.

``benchmarks/<rule>/<dataset>[_<part>...].tsv`` and ``logs/<rule>/<dataset>[_<part>...].log``,
with parts such as the model and ``shard<k>``. The workflow builds them with
:func:`benchmark_path` and :func:`log_path`; the timing step gets its files as a mapping from
the rule (no name is read back there); only :func:`read_benchmark_name`, for
``faceage estimate`` on a finished run's folder, reads a name back.
"""

from __future__ import annotations

import re
from pathlib import Path


def _name(dataset: str, parts: tuple[str, ...]) -> str:
    return "_".join((dataset,) + tuple(parts))


def log_path(rule: str, dataset: str, *parts: str) -> str:
    return f"logs/{rule}/{_name(dataset, parts)}.log"


def benchmark_path(rule: str, dataset: str, *parts: str) -> str:
    return f"benchmarks/{rule}/{_name(dataset, parts)}.tsv"


def speed_path(rule: str, dataset: str, *parts: str) -> str:
    """A job's own speed record (JSON), beside its benchmark file."""
    return f"benchmarks/{rule}/{_name(dataset, parts)}.json"


def read_benchmark_name(path: str | Path, dataset: str) -> tuple[str, int] | None:
    """``<dataset>[_<model>]_shard<k>.tsv`` -> (model or '', k); None for any other name."""
    m = re.fullmatch(
        rf"{re.escape(dataset)}_(?:(?P<model>\w+)_)?shard(?P<shard>\d+)\.tsv", Path(path).name
    )
    return (m["model"] or "", int(m["shard"])) if m else None
