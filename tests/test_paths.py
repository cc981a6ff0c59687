"""Paths with a space, a single quote and a non-ASCII letter, everywhere a user can put one.

The demo through the whole workflow with the working directory (``--directory``), ``dataset_path``,
``weights_dir`` and a ``python_envs`` interpreter all under such a folder: every value that reaches
a shell is quoted, so the run completes and the interpreter named was the one used.
"""

from __future__ import annotations

import os
import sys

import pytest
import yaml
from conftest import run_workflow

pytestmark = pytest.mark.slow

ODD = "a b'é ü"


@pytest.mark.workflow
def test_demo_with_odd_paths(tmp_path):
    base = tmp_path / ODD
    interp_dir = base / "my venv" / "bin"
    interp_dir.mkdir(parents=True)
    calls = base / "interpreter calls.txt"
    python = interp_dir / "python"
    # a wrapper interpreter: records that it ran, then is this test's Python
    python.write_text(
        f"#!/bin/sh\necho called >> {_sh_quote(str(calls))}\n"
        f'exec {_sh_quote(sys.executable)} "$@"\n'
    )
    python.chmod(0o755)
    cfg = {
        "dataset_format": "demo",  # a configfile of its own: not the demo preset
        "dataset_path": str(base / "demo data"),
        "weights_dir": str(base / "my weights"),
        "models": ["eigenfaces"],  # runs in the core env, whose interpreter is the wrapper
        "python_envs": {"core": str(python)},
        "demo": {"persons": 6, "images_per_person": 6},
        "shards": 2,
        "clean": {"detector": "none", "min_images_per_person": 3},
    }
    cfgfile = base / "config ü.yaml"
    cfgfile.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    work = base / "work dir"
    run_workflow(work, configfile=cfgfile, timeout=900)
    res = work / "results" / "demo"
    assert (res / "tables" / "similarity_within_range.csv").is_file()
    assert (res / "verification" / "comparison.tsv").is_file()
    assert len(list((base / "demo data").glob("person*"))) == 6
    # prepare_model + 2 embedding jobs ran in the named interpreter
    assert calls.read_text().count("called") >= 3


def _sh_quote(s: str) -> str:
    return "'" + s.replace("'", "'\"'\"'") + "'"


def test_odd_path_is_really_odd():
    assert " " in ODD and "'" in ODD and any(ord(c) > 127 for c in ODD)
    assert os.sep not in ODD
