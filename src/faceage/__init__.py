"""Face-Age-Invariant: how well face-recognition models recognise the same person across age.

The package holds the workflow's logic; the Snakemake rules call it. It
never imports snakemake. See :mod:`faceage.contracts` for the data contract
between the stages.
"""

from __future__ import annotations

import re
from pathlib import Path


def _version() -> str:
    """The version, written once: ``[project] version`` in pyproject.toml.

    From a checkout (the workflow's own ``src/`` on PYTHONPATH, or an editable install) its
    pyproject.toml is read, so the running code and the version it reports cannot disagree;
    so is the one a deployed module's source is unpacked with (``.snakemake/faceage-src/
    <commit>/pyproject.toml`` beside the package: workflow/rules/config.smk); an installed
    package reports its metadata (made from the same line).
    """
    here = Path(__file__).resolve()
    for pyproject in (here.parents[2] / "pyproject.toml", here.parents[1] / "pyproject.toml"):
        if pyproject.is_file():
            text = pyproject.read_text()
            found = re.search(r'^version = "([^"]+)"', text, re.M)
            if found and re.search(r'^name = "faceage"', text, re.M):
                return found.group(1)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("faceage")
    except PackageNotFoundError:
        return "unknown"


__version__ = _version()
