"""Deployed as a module from a release tag, the way snakedeploy and `github(...)` deploy it.

It follows docs/release.md: a bare git repository holds this checkout's files at one release
commit, tagged `v<version>` (annotated); a clone of it without a checkout is the source (only
git's objects, no files). A deploying user's folder holds only a Snakefile that loads the
workflow from that repository at that tag (Snakemake's `gitfile`: the same source-file code path
as `github(...)`) and its own config. The demo runs to the end there, with the package unpacked
from the git source (nothing of the checkout is on any path: PYTHONPATH is cleared, and the
package reports where it was imported from), and settings.yaml records the release's version and
the tagged commit.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from capabilities import missing
from conftest import ROOT

import faceage

pytestmark = pytest.mark.slow

USER_SNAKEFILE = """\
configfile: "config/config.yaml"


module faceage:
    snakefile:
        gitfile({repo!r}, path="workflow/Snakefile", tag={tag!r})
    config:
        config


use rule * from faceage


import faceage

print("FACEAGE_FROM", faceage.__file__)
"""

USER_CONFIG = """\
dataset: mine
dataset_format: demo
dataset_path: resources/demo
demo: {persons: 6, images_per_person: 6}
shards: 2
models: [eigenfaces]
clean: {detector: none, min_images_per_person: 3}
attributes: {enabled: false}
"""


def _git(*args, cwd):
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def _commit_checkout(tmp: Path) -> tuple[Path, str, str]:
    """The checkout's files (tracked and untracked, not ignored) at one release commit of a
    bare repo, tagged ``v<version>`` (annotated, docs/release.md): (source, commit, tag)."""
    if shutil.which("git") is None:
        missing("git", "needs git")
    files = _git("ls-files", "-co", "--exclude-standard", "-z", cwd=ROOT).split("\0")
    work = tmp / "work"
    for f in filter(None, files):
        if (ROOT / f).is_file():
            (work / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, work / f)
    _git("init", "-q", cwd=work)
    _git("add", "-A", cwd=work)
    who = ["-c", "user.name=t", "-c", "user.email=t@t"]
    tag = f"v{faceage.__version__}"
    _git(*who, "commit", "-qm", f"Release {faceage.__version__}", cwd=work)
    _git(*who, "tag", "-a", tag, "-m", f"Face-Age-Invariant {faceage.__version__}", cwd=work)
    commit = _git("rev-parse", "HEAD", cwd=work)
    assert _git("cat-file", "-t", tag, cwd=work) == "tag"  # annotated, not a lightweight tag
    bare = tmp / "faceage.git"
    _git("clone", "-q", "--bare", str(work), str(bare), cwd=tmp)
    shutil.rmtree(work)
    # gitfile reads a repository with a work tree (`git rev-parse --show-toplevel`); one cloned
    # without a checkout has only git's objects: every file is read at the commit, none from disk.
    source = tmp / "faceage-source"
    _git("clone", "-q", "--no-checkout", str(bare), str(source), cwd=tmp)
    assert [p.name for p in source.iterdir()] == [".git"]
    assert _git("rev-parse", f"{tag}^{{commit}}", cwd=source) == commit
    return source, commit, tag


@pytest.mark.workflow
def test_demo_runs_as_a_module_from_a_release_tag(tmp_path):
    repo, commit, tag = _commit_checkout(tmp_path)
    user = tmp_path / "user"
    (user / "config").mkdir(parents=True)
    (user / "Snakefile").write_text(USER_SNAKEFILE.format(repo=str(repo), tag=tag))
    (user / "config" / "config.yaml").write_text(USER_CONFIG)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-c2"],
        cwd=user,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    unpacked = user / ".snakemake" / "faceage-src" / commit
    assert f"FACEAGE_FROM {unpacked / 'faceage' / '__init__.py'}" in proc.stdout
    res = user / "results" / "mine"
    assert len(pd.read_csv(res / "clean" / "manifest.tsv", sep="\t")) == 36
    assert pd.read_parquet(res / "scores" / "eigenfaces.parquet")["similarity"].notna().all()
    assert (res / "verification" / "comparison.tsv").is_file()
    assert (res / "tables" / "similarity_within_range.csv").is_file()
    # the run records the release: its version and the tagged commit (docs/release.md)
    record = yaml.safe_load((res / "settings.yaml").read_text())
    assert (record["faceage_version"], record["git_commit"]) == (faceage.__version__, commit)
    # the jobs ran the unpacked package too (their environment's PYTHONPATH)
    log = (user / "logs" / "embed" / "mine_eigenfaces_shard0.log").read_text()
    assert "Traceback" not in log
    assert str(ROOT) not in (user / "Snakefile").read_text()
