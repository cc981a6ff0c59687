"""The environment files in envs/: their pip pins, read the one way scripts/make-venv and the
tests read them (no YAML library needed, so a bare Python can run scripts/make-venv)."""

from __future__ import annotations

import re
from pathlib import Path


def pip_pins(env_file: str | Path) -> tuple[list[str], list[list[str]]]:
    """The `pip:` section's requirements, and the `# venv-pip-args:` extra steps (in order)."""
    pins, extra, in_pip = [], [], False
    for line in Path(env_file).read_text().splitlines():
        m = re.match(r"\s*#\s*venv-pip-args:\s*(.+)", line)
        if m:
            extra.append(m.group(1).split())
            continue
        if re.match(r"\s*-\s*pip:\s*$", line):
            in_pip = True
            continue
        if in_pip:
            m = re.match(r"\s+-\s+(\S.*?)\s*(#.*)?$", line)
            if m:
                pins.append(m.group(1).strip("'\""))
            elif line.strip() and not line.strip().startswith("#"):
                in_pip = False
    return pins, extra


def constraints_text(env_file: str | Path) -> str:
    """A pip constraints file holding the env file's versions (``name==version`` lines)."""
    pins, _ = pip_pins(env_file)
    return "".join(f"{p}\n" for p in pins if "==" in p)
