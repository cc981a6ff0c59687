"""Timing per model (workflow/rules/timing.smk): images/s, wall seconds and cores,
from the embed jobs' Snakemake benchmark files.

The rule hands the files over as ``settings.benchmarks = {model: [file of shard
0, file of shard 1, ...]}`` and the embed jobs' speed records as
``settings.speeds`` alike: nothing parses a file name.
"""

from __future__ import annotations

import json
from pathlib import Path

from faceage import contracts as c
from faceage.steps import step


@step
def timing_table(*, input, output, settings):
    from faceage.analysis.timing import timing_table as table_of

    sizes = c.own_content(c.read_manifest(input.manifest)).groupby("shard").size()
    counts = {int(k): int(v) for k, v in sizes.items()}
    triples = [
        (model, shard, path)
        for model, files in settings.benchmarks.items()
        for shard, path in enumerate(files)
    ]
    speeds = {
        (model, shard): json.loads(Path(path).read_text())
        for model, files in settings.get("speeds", {}).items()
        for shard, path in enumerate(files)
    }
    table = table_of(triples, counts, speeds)
    with c.atomic_path(output.table) as tmp:
        table.round(4).to_csv(tmp, sep="\t", index=False)
