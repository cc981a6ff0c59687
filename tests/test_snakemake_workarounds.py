"""The one patch of Snakemake's internals (workflow/rules/config.smk) and why it still exists.

Snakemake 9.27's LocalGitFile.join (a module loaded with `gitfile(...)`) takes only a str, and a
`script:` rule hands it a source file. config.smk patches it only where a probe shows the bug.
This test fails when the installed Snakemake no longer has the bug: then the patch can go
(tests/test_module.py runs a module from a git source end to end either way).
"""

from __future__ import annotations

import pytest
from conftest import ROOT
from snakemake.sourcecache import LocalGitFile, LocalSourceFile


def test_snakemake_still_needs_the_gitfile_join_patch():
    base = LocalGitFile(".", "workflow", commit="0" * 40)
    with pytest.raises(TypeError):
        base.join(LocalSourceFile("x"))
    assert base.join("rules").path == "workflow/rules"  # a str joins


def test_the_patch_is_applied_only_behind_the_probe():
    text = (ROOT / "workflow" / "rules" / "config.smk").read_text()
    probe = text.index('LocalGitFile(".", "workflow", commit="0" * 40).join(LocalSourceFile("x"))')
    assert probe < text.index("LocalGitFile.join = join_path_or_source")
