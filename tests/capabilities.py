"""What a test needs beyond Python, and whether its absence may skip it.

A local run skips a test whose piece is missing (``../shared``, a model venv, dlib, a network
namespace, a SLURM cluster), with the reason. CI declares what it provides in
``FACEAGE_PROVIDES`` (comma-separated, set by ``.ci/run``): a test needing a declared piece that
turns out to be missing *fails* with the reason, so a wrong path, a venv that did not build or a
refused ``unshare -n`` cannot silently turn a capability into skips.

Pieces: ``shared`` (../shared with real faces/models), ``dlib`` (importable here),
``venv-<env>`` (.venvs/<env> built), ``netns`` (``unshare -n`` works), ``slurm`` (a running
cluster; ``FACEAGE_SLURM=1`` declares it too), ``git``, ``chromium`` (headless, for the
report), ``latex`` (``pdflatex`` with booktabs, for the study's tables).
"""

from __future__ import annotations

import importlib.util
import os

import pytest


def provided() -> set[str]:
    declared = {p.strip() for p in os.environ.get("FACEAGE_PROVIDES", "").split(",") if p.strip()}
    if os.environ.get("FACEAGE_SLURM") == "1":
        declared.add("slurm")
    return declared


# The pieces a test touched (the tiers: tests/conftest.py): touching one of E2E_PIECES
# makes a test end to end, and conftest fails a test that touches one without the tier.
TOUCHED: set[str] = set()
E2E_PIECES = {"shared", "slurm", "chromium", "latex"}  # and every venv-<env>


def touch(piece: str) -> None:
    """Note that the running test uses ``piece`` (present or not)."""
    TOUCHED.add(piece)


def missing(piece: str, reason: str) -> None:
    """Skip with ``reason`` - or fail, when CI declared that it provides ``piece``."""
    if piece in provided():
        pytest.fail(
            f"CI declares {piece!r} (FACEAGE_PROVIDES) but it is missing: {reason}", pytrace=False
        )
    pytest.skip(reason)


def need_module(name: str, piece: str | None = None, reason: str = "") -> None:
    if importlib.util.find_spec(name) is None:
        missing(piece or name, reason or f"the Python package {name!r} is not importable here")
