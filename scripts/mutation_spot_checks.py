#!/usr/bin/env python3
"""Mutation spot checks: break a core function, run its unit tests, expect a failure.

Each mutation below changes one line of a copy of src/ (the checkout is not touched) and runs the
named test files' fast tests (`-m "not slow"`) against that copy. A mutation the tests do not
catch ("survived") means the function's tests lost their teeth. Also run on the unchanged copy
first: those tests must pass, so that a failure below is the mutation's.

    .venv/bin/python scripts/mutation_spot_checks.py            # every mutation
    .venv/bin/python scripts/mutation_spot_checks.py --only scores

Exit status: 0 when every mutation was caught.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name: (file under src/faceage, the line's text, its broken text, the tests that hold it)
MUTATIONS = {
    "scores": (
        "scores.py",
        "unit.take(idx_a[p], axis=0), unit.take(idx_b[p], axis=0)",
        "unit.take(idx_a[p], axis=0), unit.take(idx_a[p], axis=0)",
        ["tests/test_scores.py"],
    ),
    "impostor pairs": (
        "pair_sampling.py",
        "keep = persons[i] != persons[j]",
        "keep = persons[i] == persons[i]",
        ["tests/test_pairs.py"],
    ),
    "cleaning": (
        "clean.py",
        "few = counts[counts < min_images_per_person]",
        "few = counts[counts < min_images_per_person - 1]",
        ["tests/test_clean.py"],
    ),
    "FNMR at FMR": (
        "analysis/operating.py",
        "ok = np.array([estimable(n_imp, f) for f in fmrs], dtype=bool)",
        "ok = np.array([n_imp > 0 for f in fmrs], dtype=bool)",
        ["tests/test_operating.py", "tests/test_operating_pool.py"],
    ),
    "AUC": (
        "analysis/roc.py",
        'out["auc"] = float(roc_auc_score(g, s))',
        'out["auc"] = float(roc_auc_score(g, -s))',
        ["tests/test_verification.py"],
    ),
    "settings layers": (
        "workflow/settings.py",
        'layers += [("", top), (where, entry), ("", command_line)]',
        'layers += [("", top), ("", command_line), (where, entry)]',
        ["tests/test_workflow_settings.py"],
    ),
}


def run_tests(src: Path, tests: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    probe = subprocess.run(
        [sys.executable, "-c", "import faceage; print(faceage.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(probe.stdout.strip()).is_relative_to(src), f"faceage came from {probe.stdout}"
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-m", "not slow", "-p", "no:cacheprovider"]
    return subprocess.run(
        cmd + tests, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200
    )


def last_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return lines[-1] if lines else proc.stderr.strip()[-200:]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="mutation names (default: all)")
    args = ap.parse_args()
    chosen = {k: v for k, v in MUTATIONS.items() if not args.only or k in args.only}
    survived = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        for name, (rel, line, broken, tests) in chosen.items():
            shutil.rmtree(src, ignore_errors=True)
            shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy(ROOT / "pyproject.toml", Path(tmp) / "pyproject.toml")
            target = src / "faceage" / rel
            text = target.read_text()
            if text.count(line) != 1:
                print(f"{name}: the line to break is not in {rel} once: {line!r}")
                return 2
            base = run_tests(src, tests)
            if base.returncode != 0:
                print(f"{name}: the tests fail without the mutation: {last_line(base)}")
                return 2
            target.write_text(text.replace(line, broken))
            proc = run_tests(src, tests)
            caught = proc.returncode == 1
            if not caught:
                survived.append(name)
            failed = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAILED")]
            print(f"| {name} | `{rel}`: `{line}` -> `{broken}` | {' '.join(tests)} | ", end="")
            print(f"{'caught: ' + failed[0][7:].split(' - ')[0] if caught else 'SURVIVED'} |")
    print(f"{len(chosen) - len(survived)} of {len(chosen)} mutations caught")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
