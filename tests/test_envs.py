"""Environments: every env file has a lock (all packages pinned and hashed) that agrees with it,
and the workflow env alone holds what the Snakefile imports at parse time."""

import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

from faceage.envfiles import LOCK_SETS, lock_problems

ENVS = sorted(p.stem for p in (ROOT / "envs").glob("*.yaml"))


@pytest.mark.parametrize("envs", [(e,) for e in ENVS] + LOCK_SETS, ids="+".join)
def test_lock_agrees_with_its_env_files(envs):
    assert lock_problems(ROOT / "envs", envs) == []


def test_a_lock_that_disagrees_is_named(tmp_path):
    envs = shutil.copytree(ROOT / "envs", tmp_path / "envs")
    core = envs / "core.yaml"
    core.write_text(core.read_text().replace("numpy==2.4.6", "numpy==2.4.5"))
    problems = lock_problems(envs, ("core",))
    assert any("made from other pins" in p for p in problems)
    assert any("numpy==2.4.5 pinned, lock has 2.4.6" in p for p in problems)
    lock = envs / "locks" / "dlib.txt"
    lock.write_text(lock.read_text().replace("--hash=sha256:", "--hush=sha256:"))
    assert any("no hash for" in p for p in lock_problems(envs, ("dlib",)))
    lock.unlink()
    assert lock_problems(envs, ("dlib",)) == [f"{lock}: missing; run `make lock`"]
    (envs / "paddle.yaml").write_text(
        (envs / "paddle.yaml").read_text().replace("insightface-paddle==2.0.0", "x==1")
    )
    assert any("x==1 pinned" in p for p in lock_problems(envs, ("paddle",)))


@pytest.mark.slow
def test_workflow_env_alone_lints_and_dry_runs_the_demo(tmp_path):
    """The catalog lints in an env with Snakemake and snakefmt only: ours holds what the
    Snakefile imports at parse time (envs/workflow.yaml), built from its lock, nothing else."""
    target = tmp_path / "venv"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make-venv"), "workflow", "--into", str(target)],
        check=True,
        capture_output=True,
        timeout=1200,
    )
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    snakemake = str(target / "bin" / "snakemake")
    lint = subprocess.run(
        [snakemake, "--lint"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert lint.returncode == 0 and "good condition" in lint.stdout + lint.stderr, lint.stderr
    fmt = subprocess.run(
        [
            str(target / "bin" / "snakefmt"),
            "--check",
            "workflow/Snakefile",
            "workflow/rules",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stderr
    work = tmp_path / "work"
    work.mkdir()
    dry = subprocess.run(
        [
            snakemake,
            "-s",
            str(ROOT / "workflow" / "Snakefile"),
            "-n",
            "-c1",
            "--configfile",
            str(ROOT / "config" / "config.yaml"),
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
    assert "embed" in dry.stdout and "verification_metrics" in dry.stdout
    # nothing beyond the lock: dlib (the demo's detection env) is not importable there
    probe = [str(target / "bin" / "python"), "-c", "import dlib"]
    assert subprocess.run(probe, env=env, capture_output=True).returncode != 0
