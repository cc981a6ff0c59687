"""A failed step says why on the console: one line naming the file, what is wrong and the
format expected; the traceback is in the rule's log (issue 22, item 7).

The bad protocol files users met: a CSV without ``same``, ``same=maybe``, a short line in
``pairs.txt``, a ``.bin`` that is no pickle and a ``.mat`` of random bytes (scipy's bare
"Unknown mat file type" before).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml
from conftest import run_workflow

from faceage.protocols.formats import ProtocolError, read_protocol

# file name, format, content, a phrase of the cause
BAD = [
    ("no_same.csv", "csv", b"image_a,image_b,fold\na.jpg,b.jpg,0\n", "missing columns ['same']"),
    ("maybe.csv", "csv", b"image_a,image_b,same\na.jpg,b.jpg,maybe\n", "same='maybe'"),
    ("pairs.txt", "lfw", b"1 1\nAbel_Pacheco 1 4\nAbel_Pacheco 1\n", "line 3 has 2 fields"),
    ("lfw.bin", "insightface_bin", b"not a pickle at all\n", "not an insightface .bin pickle"),
    ("random.mat", "agedb_mat", np.random.default_rng(0).bytes(4096), "not a readable agedb_mat"),
]
IDS = [b[0] for b in BAD]


def write_bad(folder, name, content):
    path = folder / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(("name", "fmt", "content", "cause"), BAD, ids=IDS)
def test_reader_errors_name_file_and_format(tmp_path, name, fmt, content, cause):
    path = write_bad(tmp_path, name, content)
    with pytest.raises(ProtocolError) as err:
        read_protocol(path, fmt)
    msg = str(err.value)
    assert "\n" not in msg, msg  # the console's one line holds all of it
    assert str(path) in msg and cause in msg
    assert f"expected for format {fmt}: " in msg and "protocols[].format" in msg


@pytest.mark.parametrize(("name", "fmt", "content", "cause"), BAD, ids=IDS)
def test_step_command_prints_one_line_and_logs_the_traceback(tmp_path, name, fmt, content, cause):
    """The step of protocol_manifest on each bad file: the reader's cause (file, what is wrong,
    the format) on one console line, the traceback in the log; what
    test_workflow_prints_the_cause sees through Snakemake, there for one file."""
    path = write_bad(tmp_path, name, content)
    log = tmp_path / "step.log"
    protocol = {"file": str(path), "format": fmt, "images": str(tmp_path)}
    settings = {"protocols": [protocol], "shards": 1}
    proc = subprocess.run(
        [sys.executable, "-m", "faceage", "step", "protocol_manifest", "--log", str(log)]
        + [f"--output={n}={tmp_path / n}.tsv" for n in ("manifest", "rejects", "pairs")]
        + ["--settings", json.dumps(settings)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ERROR [protocol_manifest]: ") and str(path) in lines[0]
    assert cause in lines[0] and f"format {fmt}" in lines[0]
    assert lines[0].endswith(f"(traceback: {log})")
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "ProtocolError" in text


@pytest.mark.workflow
@pytest.mark.slow
def test_workflow_prints_the_cause(tmp_path):
    """A protocol run on a bad file: the cause on snakemake's stderr, the traceback in the
    log of protocol_manifest.

    One file proves the way through the rule (step.py, the rule's log, the job's stderr to the
    terminal): the .mat of random bytes, whose cause is a library's error (scipy's) made the
    step's one line. Every format's cause and line are held a tier down, by
    test_reader_errors_name_file_and_format and
    test_step_command_prints_one_line_and_logs_the_traceback.
    """
    name, fmt, content, cause = BAD[IDS.index("random.mat")]
    work, images = tmp_path / "work", tmp_path / "images"
    images.mkdir()
    path = write_bad(tmp_path, name, content)
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "dataset": "bad",
                "dataset_format": "protocol",
                "shards": 1,
                "protocols": [{"file": str(path), "format": fmt, "images": str(images)}],
            }
        )
    )
    proc = run_workflow(
        work, configfile=cfg, cores=1, check=False, targets=("results/bad/manifest.tsv",)
    )
    assert proc.returncode != 0
    line = next(
        (ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR [protocol_manifest]: ")),
        None,
    )
    assert line is not None, proc.stderr[-3000:]
    assert str(path) in line and cause in line and f"format {fmt}" in line
    log = work / "logs" / "protocol_manifest" / "bad.log"
    assert f"(traceback: {log.relative_to(work)})" in line
    assert "Traceback (most recent call last)" in log.read_text()
