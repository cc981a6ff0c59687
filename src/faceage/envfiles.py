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


# Locks: every package an environment installs, pinned and hashed (`make lock`, uv pip compile).
# One lock per env file, and one per set of env files installed together into one venv
# (`make setup`: dlib + workflow). Their first line records what they were made from.
LOCK_SETS = [("dlib", "workflow")]
HEADER = "# Locked by `make lock` from {sources}; input sha256 {digest}\n"


def lock_name(envs: list[str] | tuple[str, ...]) -> str:
    return "+".join(envs)


def lock_inputs(envs_dir: str | Path, envs: list[str] | tuple[str, ...]) -> tuple[str, str]:
    """The requirements a lock is made from (the env files' pins, in order, once each), and
    the extra ``--no-deps`` requirements of their ``# venv-pip-args`` lines."""
    pins, extra = [], []
    for env in envs:
        p, e = pip_pins(Path(envs_dir) / f"{env}.yaml")
        pins += [x for x in p if x not in pins]
        for step in e:
            if step[:1] != ["--no-deps"]:
                raise ValueError(f"envs/{env}.yaml: venv-pip-args other than --no-deps: {step}")
            extra += [x for x in step[1:] if x not in extra]
    return "".join(f"{p}\n" for p in pins), "".join(f"{p}\n" for p in extra)


def lock_header(envs: list[str] | tuple[str, ...], text: str) -> str:
    import hashlib

    sources = ", ".join(f"envs/{e}.yaml" for e in envs)
    return HEADER.format(sources=sources, digest=hashlib.sha256(text.encode()).hexdigest())


def locked_versions(lock_text: str) -> dict[str, str]:
    """{normalised name: version} of a lock's ``name==version`` lines."""
    found = {}
    for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?:\s|;|$)", lock_text, re.M):
        found[_norm(m[1])] = m[2]
    return found


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_problems(envs_dir: str | Path, envs: list[str] | tuple[str, ...]) -> list[str]:
    """How the lock of ``envs`` disagrees with the env files (empty: it agrees)."""
    envs_dir = Path(envs_dir)
    name = lock_name(envs)
    problems = []
    pins, extra = lock_inputs(envs_dir, envs)
    for suffix, text in (("", pins), (".no-deps", extra)):
        lock = envs_dir / "locks" / f"{name}{suffix}.txt"
        if not text:
            if lock.exists():
                problems.append(f"{lock}: left over (no such requirements any more)")
            continue
        if not lock.is_file():
            problems.append(f"{lock}: missing; run `make lock`")
            continue
        body = lock.read_text()
        if not body.startswith(lock_header(envs, text)):
            problems.append(f"{lock}: made from other pins than {', '.join(envs)}; run `make lock`")
        versions = locked_versions(body)
        for pin in text.split():
            pkg, _, version = pin.partition("==")
            if versions.get(_norm(pkg)) != version:
                problems.append(f"{lock}: {pin} pinned, lock has {versions.get(_norm(pkg))}")
        entries = re.split(r"\n(?=[A-Za-z0-9])", body.split("\n", 1)[1].strip())
        unhashed = [e.split()[0] for e in entries if "==" in e and "--hash=sha256:" not in e]
        if unhashed:
            problems.append(f"{lock}: no hash for {', '.join(unhashed)}")
    return problems
