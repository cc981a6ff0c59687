"""Which rules of a finished run a configuration setting re-runs for changed params, for many
settings at the cost of one parse and one DAG (tests/test_rule_settings.py).

``snakemake --summary --config <setting>`` answers it for one setting: it parses the workflow,
builds the DAG, and gives an output the status "params changed" where the params recorded in
.snakemake/metadata beside it differ from the params of its job now. That is 5-10 s a setting
(much of it Snakemake's start: where a SLURM client is installed but no controller runs, the
slurm executor plugin's ``scontrol show config`` probe alone waits some 9 s on import).
Here the workflow is parsed and its DAG built once (Snakemake's API, as ``--summary`` does),
and for each setting:

1. the setting is parsed as Snakemake parses ``--config`` (snakemake.cli.parse_config) and
   merged over the --configfile files as Snakemake does (ConfigSettings.overwrite_config);
2. the configuration is resolved as workflow/rules/config.smk resolves it (the workflow's own
   ``_settings.resolve`` with its schema, validation and demo preset), and the workflow's
   ``config`` and each ``DATASETS[name]`` are updated in place with the result (restored
   afterwards), so every params function and every global that holds those dicts (such as
   DEMO_FOLDERS) sees the setting;
3. every job's params are evaluated again by the rule's own expansion (Rule.expand_params, as
   Job does) and handed to Snakemake's own rerun trigger (persistence.params_changed), which
   compares them with the params the finished run recorded for each output.

Compared with the record, not with an evaluation of the unchanged configuration: the record is
what Snakemake's "params" rerun trigger (and --summary) compares, so a rule whose params drift
from the record without any setting (an absolute path, a value that changes between runs) is
reported for every setting here as it is there; the caller checks a setting that changes
nothing to see that there are none.

Only the summary's outputs that reach its "params changed" test count: an output that exists,
whose job has no updated input, whose rule's code and set of input files are as recorded.

What this cannot see, and says so rather than answer wrongly: a setting that changes the DAG
(a job's input files: raises), a different set of datasets (raises), and params fixed when the
workflow is parsed (a rule's params that are values, not functions of the job: raises for any
such rule in the DAG, since only a fresh parse would see a setting there). Globals that
config.smk derives by value (MODEL_NAMES, WEIGHT_GROUPS, PROTOCOLS, ...) keep the run's values;
the settings they come from change the DAG.

Run it in its own process (``python tests/helpers/rule_params.py [--snakefile F] [--configfile
F] [--target T] -- WORKDIR SETTING...`` prints ``{setting: [rule, ...]}`` as JSON on its last
line; :func:`rerun_by_setting` does that from a test): parsing a Snakefile puts its rules and
globals into snakemake.workflow's module namespace, changes the working directory, sets up
Snakemake's logging and lets the workflow set environment variables (config.smk, envs.smk),
none of which a pytest process should keep.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class _Evaluated:
    """What Snakemake's rerun trigger reads of a job (persistence.params_changed: its output
    files and non-derived params), with the params evaluated under a setting. A new object each
    time: the persistence caches a job's serialized params by job."""

    def __init__(self, job, non_derived_params):
        self.output = job.output
        self.non_derived_params = non_derived_params


def _resolve(workflow, setting: str | None):
    """(run configuration, {dataset: configuration}) as config.smk resolves them when
    Snakemake is given ``--config <setting>`` (no --config for None)."""
    from snakemake.cli import parse_config
    from snakemake.settings.types import ConfigSettings

    g = workflow.globals
    given = ConfigSettings(
        config=parse_config([setting] if setting else []),
        configfiles=list(workflow.config_settings.configfiles),
    )
    config = copy.deepcopy(given.overwrite_config)  # what the Workflow starts with
    is_module = g["_IS_MODULE"]
    demo = g["_settings"].uses_demo(config, given.configfiles, is_module)
    # config.smk as the file being parsed, as while Snakemake runs it: its validate_config
    # names the schema relative to it, and it names the demo preset relative to itself
    config_smk = workflow._included[g["validate_config"].__code__.co_filename]
    workflow.included_stack.append(config_smk)
    try:
        return g["_settings"].resolve(
            config,
            schema=g["_SCHEMA_DICT"],
            validate=g["validate_config"],
            cli={} if is_module else dict(given.config),
            demo_preset=(
                workflow.current_basedir.join("../../config/demo.yaml").get_path_or_uri(
                    secret_free=False
                )
                if demo
                else None
            ),
        )
    finally:
        workflow.included_stack.pop()


def _apply(workflow, run: dict, datasets: dict) -> None:
    """Put a resolved configuration into the workflow, in place, as config.smk does."""
    g = workflow.globals
    if set(datasets) != set(g["DATASETS"]):
        raise ValueError(
            f"the datasets change ({sorted(g['DATASETS'])} -> {sorted(datasets)}): "
            "the DAG built once does not hold; check with snakemake --summary"
        )
    g["config"].clear()
    g["config"].update(run)
    for name, c in datasets.items():
        g["DATASETS"][name].clear()
        g["DATASETS"][name].update(c)


def _fixed_params(jobs) -> dict[str, list[str]]:
    """{rule: its params that are values fixed when the workflow was parsed} of the jobs'
    rules."""
    fixed = {}
    for rule in {job.rule for job in jobs}:
        names = [name for name, value in rule.params._allitems() if not callable(value)]
        if names:
            fixed[rule.name] = sorted(str(n) for n in names)
    return fixed


def rules_rerun_by_setting(
    workdir: str | Path,
    settings: Iterable[str],
    snakefile: str | Path | None = None,
    configfile: str | Path | None = None,
    targets: Iterable[str] = (),
) -> dict[str, set[str]]:
    """{setting: the rules with an output that ``snakemake --summary --config <setting>``
    would give the status "params changed"} for the finished run in ``workdir`` (run with
    ``snakefile``, default workflow/Snakefile, ``--configfile configfile``, default
    config/demo.yaml, and ``targets``). In this process: see the module's note."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.enums import Quietness
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        ResourceSettings,
    )

    settings = list(settings)
    output = OutputSettings(quiet={Quietness.ALL}, enable_file_logging=False)
    with SnakemakeApi(output) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(
                configfiles=[Path(configfile or ROOT / "config" / "demo.yaml")]
            ),
            snakefile=Path(snakefile or ROOT / "workflow" / "Snakefile"),
            workdir=Path(workdir),
        )
        # the DAG as DAGApi.summary builds it (Workflow.summary); read-only: no lock
        dag_api = workflow_api.dag(DAGSettings(targets=frozenset(targets)))
        workflow = dag_api.workflow_api._workflow
        workflow._prepare_dag(
            forceall=False, ignore_incomplete=True, lock_warn_only=True, nolock=True
        )
        workflow._build_dag()
        dag, persistence = workflow.dag, workflow.persistence
        jobs = list(dag.jobs)
        fixed = _fixed_params(jobs)
        if fixed:
            raise ValueError(
                f"params fixed when the workflow is parsed: {fixed}; a setting there is seen "
                "only by a fresh parse (snakemake --summary --config ...)"
            )

        async def reach_params_test(job, f) -> bool:
            """Whether --summary gets to "params changed" for output ``f`` (DAG.summary)."""
            return (
                await f.exists()
                and not dag.reason(job).updated_input
                and not persistence.code_changed(job, file=f)
                and not persistence.input_changed(job, file=f)
            )

        checked = {
            job: [f for f in job.output if workflow.async_run(reach_params_test(job, f))]
            for job in jobs
        }
        g = workflow.globals
        saved_config = dict(g["config"])
        saved_datasets = {name: dict(c) for name, c in g["DATASETS"].items()}
        out = {}
        try:
            for setting in settings:
                _apply(workflow, *_resolve(workflow, setting))
                rerun = set()
                for job, files in checked.items():
                    inputs = job.rule.expand_input(job.wildcards_dict)[0]
                    if list(map(str, inputs)) != list(map(str, job.input)):
                        raise ValueError(
                            f"--config {setting}: the input files of {job} change, so the DAG "
                            "built once does not hold for it; check with snakemake --summary"
                        )
                    if not files:
                        continue
                    _, non_derived = job.rule.expand_params(
                        job.wildcards_dict, job.input, job.output, job
                    )
                    evaluated = _Evaluated(job, non_derived)
                    if any(persistence.params_changed(evaluated, file=f) for f in files):
                        rerun.add(job.rule.name)
                out[setting] = rerun
        finally:
            _apply(workflow, saved_config, saved_datasets)
    return out


def rerun_by_setting(
    workdir: str | Path,
    settings: Iterable[str],
    snakefile: str | Path | None = None,
    configfile: str | Path | None = None,
    targets: Iterable[str] = (),
    timeout: int = 600,
) -> dict[str, set[str]]:
    """:func:`rules_rerun_by_setting` in a process of its own (this file run as a script)."""
    settings = list(settings)
    cmd = [sys.executable, __file__]
    if snakefile:
        cmd += ["--snakefile", str(snakefile)]
    if configfile:
        cmd += ["--configfile", str(configfile)]
    for target in targets:
        cmd += ["--target", target]
    cmd += ["--", str(workdir)]  # the settings may start with "-"
    proc = subprocess.run([*cmd, *settings], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join([*cmd, *settings])} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
            f"{proc.stderr[-6000:]}"
        )
    got = json.loads(proc.stdout.splitlines()[-1])
    return {setting: set(got[setting]) for setting in settings}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("settings", nargs="*", help="--config text, e.g. 'clean={upsample: 2}'")
    parser.add_argument("--snakefile", type=Path)
    parser.add_argument("--configfile", type=Path)
    parser.add_argument("--target", action="append", default=[])
    args = parser.parse_args(argv)
    got = rules_rerun_by_setting(
        args.workdir.resolve(),
        args.settings,
        snakefile=args.snakefile and args.snakefile.resolve(),
        configfile=args.configfile and args.configfile.resolve(),
        targets=args.target,
    )
    print(json.dumps({setting: sorted(rules) for setting, rules in got.items()}))


if __name__ == "__main__":
    main()
