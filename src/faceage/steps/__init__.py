"""The step layer: one function per workflow rule, registered under the rule's name.

A step reads its named inputs, calls the package's logic and writes its named
outputs (atomically, through :mod:`faceage.contracts`). It is a keyword-only
function taking any of:

* ``input`` and ``output`` - :class:`Files`: the rule's named files
  (``input.scores``; a name that stands for several files gives a list);
* ``settings`` - :class:`Settings`: the rule's ``params.settings``, every
  setting the step uses, given once;
* ``wildcards`` - :class:`Files` of the rule's wildcards;
* ``threads`` - the job's cores.

Steps live in ``faceage.steps.<stage>``, named like
``workflow/rules/<stage>.smk``, and register with :func:`step`. The workflow
runs them two ways, both through :func:`run`:

* in the Snakemake job's own interpreter: ``script: "../scripts/step.py"``,
  the same generic script for every rule (:func:`run_snakemake`);
* in a model's or estimator's own interpreter (a conda env or a venv):
  ``python -m faceage step <rule> --input name=path ... --output name=path
  --settings JSON --log LOG`` (:func:`main`), every value quoted by the rule.

Both share one failure path (:func:`report_failure`): the traceback goes to the rule's log,
and one line - ``ERROR [<rule>]: <cause> (traceback: <log>)`` - to the console, where
Snakemake's own "check log file(s)" follows it. A cause names what is wrong and what to do
(a protocol reader's names the file, its format and what that format looks like).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

STAGES = (
    "provenance",
    "dataset",
    "clean",
    "comparisons",
    "embeddings",
    "external",
    "weights",
    "scores",
    "similarity",
    "timing",
    "verification",
    "operating",
    "paired",
    "attributes",
    "study",
)
REGISTRY: dict[str, Callable] = {}
KEYWORDS = ("input", "output", "settings", "wildcards", "threads")
# Errors whose message is written for the user: the line shows the message alone. Any other
# exception is a bug or a library's surprise: the line shows its type too.
USER_ERRORS = (OSError, ImportError, ValueError, RuntimeError)


class Files(dict):
    """A rule's named files (or wildcards): ``files.name`` or ``files["name"]``."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no file named {name!r}; have: {', '.join(self)}") from None

    def list(self, name: str) -> list[str]:
        """The files under ``name`` as a list (one file, several, or none)."""
        value = self.get(name, [])
        return [value] if isinstance(value, str) else list(value)

    def by_model(self, name: str, models) -> dict[str, str]:
        """``{model: file}`` from the list input ``name``, one file per model in the order of
        ``models`` (the rule's ``settings.models``): no step reads a model out of a name."""
        return dict(zip(models, self.list(name), strict=True))

    def optional(self, name: str) -> str | None:
        """The one file under ``name``, or None when the rule gave none."""
        files = self.list(name)
        return files[0] if files else None


class Settings(dict):
    """A step's settings: ``settings.name`` or ``settings["name"]``; nested mappings alike.

    Every setting read is noted (``read``, dotted names), so a test can check that a rule
    hands its step nothing the step never reads: a setting in a rule's params that the step
    ignores would re-run the rule when it changes (:func:`settings_report`)."""

    def __init__(self, data: Mapping | None = None, _read: set | None = None, _at: str = ""):
        self.read = set() if _read is None else _read
        self._at = _at
        super().__init__(
            {
                k: Settings(v, self.read, f"{_at}{k}.") if isinstance(v, Mapping) else v
                for k, v in dict(data or {}).items()
            }
        )

    def __getitem__(self, name):
        value = super().__getitem__(name)
        if not isinstance(value, Settings):
            self.read.add(f"{self._at}{name}")
        return value

    def get(self, name, default=None):
        return self[name] if name in self else default

    def items(self):
        self.read |= self.names()  # iterated over: every setting under it is read
        return super().items()

    def values(self):
        self.read |= self.names()
        return super().values()

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}; have: {', '.join(self)}") from None

    def plain(self) -> dict:
        """As plain nested dicts (for JSON and for libraries that test ``type(x) is dict``)."""
        return {k: v.plain() if isinstance(v, Settings) else self[k] for k, v in self.items()}

    def names(self) -> set[str]:
        """Every setting given, as dotted names."""
        out = set()
        for k, v in dict.items(self):
            out |= v.names() if isinstance(v, Settings) else {f"{self._at}{k}"}
        return out


# With FACEAGE_SETTINGS_REPORT set to a folder, each step writes there which settings its rule
# gave it and which it read (tests/test_rule_settings.py).
SETTINGS_REPORT = "FACEAGE_SETTINGS_REPORT"


def settings_report(rule: str, settings: Settings) -> None:
    folder = os.environ.get(SETTINGS_REPORT)
    if not folder:
        return
    record = {"rule": rule, "given": sorted(settings.names()), "read": sorted(settings.read)}
    path = os.path.join(folder, f"{rule}.{os.getpid()}.json")
    with open(path, "w") as fh:
        json.dump(record, fh)


def step(fn: Callable | None = None, *, also: tuple[str, ...] = ()):
    """Register ``fn`` as the step of the rule with its name (``@step``).

    ``@step(also=("other_rule",))`` registers it under further rule names too: rules made with
    Snakemake's ``use rule A as B with:`` (same step, other files).
    """
    if fn is None:
        return lambda f: step(f, also=also)
    params = inspect.signature(fn).parameters
    wrong = [n for n, p in params.items() if p.kind is not p.KEYWORD_ONLY or n not in KEYWORDS]
    if wrong:
        raise TypeError(
            f"step {fn.__name__}: parameters must be keyword-only, among {KEYWORDS}: {wrong}"
        )
    for name in (fn.__name__, *also):
        if name in REGISTRY and REGISTRY[name] is not fn:
            raise ValueError(f"two steps named {name!r}")
        REGISTRY[name] = fn
    return fn


def load_all() -> dict[str, Callable]:
    """Import every stage module (registering its steps); the registry."""
    for stage in STAGES:
        importlib.import_module(f"{__name__}.{stage}")
    return REGISTRY


def get(rule: str) -> Callable:
    if rule not in REGISTRY:
        load_all()
    if rule not in REGISTRY:
        raise KeyError(f"no step for rule {rule!r}; steps: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[rule]


def run(
    rule: str,
    *,
    input: Mapping | None = None,
    output: Mapping | None = None,
    settings: Mapping | None = None,
    wildcards: Mapping | None = None,
    threads: int = 1,
):
    """Run the step of ``rule`` with what it declares; return what it returns."""
    fn = get(rule)
    given = {
        "input": Files(input or {}),
        "output": Files(output or {}),
        "settings": Settings(settings),
        "wildcards": Files(wildcards or {}),
        "threads": threads,
    }
    out = fn(**{name: given[name] for name in inspect.signature(fn).parameters})
    settings_report(rule, given["settings"])
    return out


def _named(namedlist) -> dict:
    return {name: value for name, value in namedlist.items()}


def error_line(label: str, exc: BaseException, log: str | None = None) -> str:
    """The console's one line about a failed step (what is wrong and what to do)."""
    cause = str(exc) if isinstance(exc, USER_ERRORS) else f"{type(exc).__name__}: {exc}"
    return f"ERROR [{label}]: {cause}" + (f" (traceback: {log})" if log else "")


def report_failure(label: str, exc: BaseException, log: str | None, console: TextIO) -> None:
    """The traceback (and the line) to the log through the root logger; the one line to
    ``console`` when the log is a file of its own."""
    line = error_line(label, exc, log)
    logging.getLogger(__name__).error("%s", line, exc_info=exc)
    if log is not None:  # without a log file the logger wrote to the console already
        print(line, file=console, flush=True)


def run_snakemake(smk) -> None:
    """Run the step of the job's rule from Snakemake's ``snakemake`` object (``step.py``).

    A failure exits with status 1 after :func:`report_failure`: the traceback in the log, the
    one line on the console (the job's stderr, which Snakemake shows)."""
    from faceage.logs import log_to

    console = sys.stderr
    log_to(smk.log[0])
    try:
        run(
            smk.rule,
            input=_named(smk.input),
            output=_named(smk.output),
            settings=smk.params.get("settings", {}),
            wildcards=_named(smk.wildcards),
            threads=smk.threads,
        )
    except Exception as exc:  # noqa: BLE001 - every failure takes the one path
        report_failure(smk.rule, exc, smk.log[0], console)
        raise SystemExit(1) from None


def _log_to_file(path: str) -> TextIO:
    """Send this process's stdout and stderr - libraries' C-level output included - to ``path``;
    return a stream to the console stderr the process started with."""
    console = os.fdopen(os.dup(2), "w", buffering=1)
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    return console


def _pairs(items: list[str] | None, what: str) -> dict:
    out: dict = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--{what} takes name=path, got {item!r}")
        if name in out:
            out[name] = [*([out[name]] if isinstance(out[name], str) else out[name]), path]
        else:
            out[name] = path
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m faceage step RULE ...``: run one step in this interpreter."""
    ap = argparse.ArgumentParser(
        prog="python -m faceage step",
        description="Run one workflow step in this interpreter (the rules call this).",
    )
    ap.add_argument("rule")
    ap.add_argument("--input", action="append", metavar="NAME=PATH")
    ap.add_argument("--output", action="append", metavar="NAME=PATH")
    ap.add_argument("--wildcard", action="append", metavar="NAME=VALUE")
    ap.add_argument("--settings", default="{}", help="the step's settings as JSON")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--label", help="what the error line names (default: the rule)")
    ap.add_argument(
        "--log",
        help="the rule's log: all output and a failure's traceback go there, "
        "a failure's one line to the console",
    )
    args = ap.parse_args(argv)
    console = _log_to_file(args.log) if args.log else sys.stderr
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        run(
            args.rule,
            input=_pairs(args.input, "input"),
            output=_pairs(args.output, "output"),
            settings=json.loads(args.settings),
            wildcards=_pairs(args.wildcard, "wildcard"),
            threads=args.threads,
        )
    except Exception as exc:  # noqa: BLE001 - every failure takes the one path
        report_failure(args.label or args.rule, exc, args.log, console)
        return 1
    return 0
