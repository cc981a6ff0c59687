"""Send a step's messages (logging and stderr) to the rule's log file."""

from __future__ import annotations

import logging
import sys


def log_to(path: str) -> None:
    """Redirect stderr and the root logger to ``path`` (the rule's ``log:``)."""
    stream = open(path, "w", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the job
    sys.stderr = stream
    logging.basicConfig(
        stream=stream,
        level=logging.INFO,
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
