"""The SLURM profile (profiles/slurm), and the demo run through a real SLURM.

The end-to-end test needs a running single-node SLURM on this machine:

    scripts/slurm/local-slurm.sh start      # as root; .ci/run does this
    FACEAGE_SLURM=1 .venv/bin/python -m pytest tests/test_slurm.py

Without FACEAGE_SLURM=1 it is skipped (with that reason); with FACEAGE_SLURM=1 but no working
`sinfo` it fails, so CI cannot pass without really testing. It runs the demo workflow twice from
one snapshot of the code, locally (-c2) and with `--profile profiles/slurm`, and checks that the
heavy jobs went through the scheduler (SLURM job ids from Snakemake, their SLURM logs, slurmctld's
log and squeue) and that every result table is byte-for-byte the same as the local run's.

Test overrides of the Pelle profile, each because this machine is not Pelle:
  FACEAGE_SLURM_ACCOUNT=faceage_ci                 any account (no accounting database here)
  --slurm-init-seconds-before-status-checks 2       first status check after 2 s, not 40 s
  --slurm-status-command squeue                     no slurmdbd here, so no sacct
  --sdm env-modules                                 no conda here: the profile's `conda` is
                                                    replaced by a method no rule uses, so rules
                                                    run with the venv, like the local run
  --set-threads detect_faces=1 embed=1              the node has 2 CPUs, the profile asks 4
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from capabilities import missing  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
PROFILES = ["slurm"]
# What the workflow needs to run; everything else (venvs, results, .git) stays behind.
WORKFLOW_PARTS = ["workflow", "config", "src", "envs", "profiles", "scripts"]
ACCOUNT = "faceage_ci"
TEST_OVERRIDES = [
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--slurm-status-command",
    "squeue",
    "--sdm",
    "env-modules",
    "--set-threads",
    "detect_faces=1",
    "embed=1",
]
HEAVY_RULES = {"detect_faces", "embed"}
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.")


def copy_workflow(dst: Path) -> Path:
    dst.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for part in WORKFLOW_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dst / part, ignore=skip)
        elif src.exists():
            shutil.copy2(src, dst / part)
    return dst


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "FACEAGE_SLURM_"))}
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, env: dict, log: Path, timeout: float) -> subprocess.Popen:
    """Start Snakemake with its output in ``log``; the caller waits with :func:`finish`."""
    out = open(log, "w")  # noqa: SIM115 - closed in finish()
    proc = subprocess.Popen(
        [SNAKEMAKE, *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
    )
    proc.log, proc.out, proc.timeout = log, out, timeout
    return proc


def finish(proc: subprocess.Popen) -> int:
    try:
        return proc.wait(timeout=proc.timeout)
    except subprocess.TimeoutExpired:
        # SIGINT, not SIGTERM: Snakemake then cancels its SLURM jobs (scancel) before exiting.
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        pytest.fail(f"snakemake did not finish in {proc.timeout} s; log:\n{tail(proc.log)}")
    finally:
        proc.out.close()


def tail(path: Path, n: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


def sh(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60).stdout


# Tables of measured wall times (from the benchmark files): they differ between any two runs.
MEASUREMENTS = {"timing.tsv"}


def result_tables(results: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(results)): p.read_bytes()
        for p in sorted(results.rglob("*"))
        if p.suffix in (".tsv", ".csv") and p.name not in MEASUREMENTS
    }


# --- the profiles themselves (no SLURM needed) ---


@pytest.mark.parametrize("name", PROFILES)
def test_every_profile_setting_is_commented(name):
    """Each key of the profile (and each default resource) has a comment line right above it."""
    path = ROOT / "profiles" / name / "config.yaml"
    lines = path.read_text().splitlines()
    keys = yaml.safe_load(path.read_text())
    assert keys["executor"] == "slurm"
    uncommented = []
    for i, line in enumerate(lines):
        m = re.match(r"^( {0,2})([a-z_-]+):", line)
        if not m:
            continue
        top = m.group(1) == ""
        default_resource = m.group(1) == "  " and _block_of(lines, i) == "default-resources:"
        if (top or default_resource) and not lines[i - 1].lstrip().startswith("#"):
            uncommented.append(line.strip())
    assert not uncommented, f"settings without a comment in {path}: {uncommented}"


def _block_of(lines: list[str], i: int) -> str:
    for j in range(i - 1, -1, -1):
        if lines[j] and not lines[j].startswith((" ", "#")):
            return lines[j].strip()
    return ""


def dry_run(cwd: Path, profile: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SNAKEMAKE, "--profile", f"profiles/{profile}", "--sdm", "env-modules", "-n", "-F"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def dry_copy(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("slurm-dry") / "wf")


@pytest.mark.workflow
def test_missing_account_stops_with_a_clear_error(dry_copy):
    res = dry_run(dry_copy, "slurm", clean_env())
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "FACEAGE_SLURM_ACCOUNT is not set: export FACEAGE_SLURM_ACCOUNT=" in out


@pytest.mark.workflow
def test_missing_conda_prefix_stops_with_a_clear_error(dry_copy):
    env = clean_env(FACEAGE_SLURM_ACCOUNT=ACCOUNT)
    env.pop("FACEAGE_CONDA_PREFIX", None)
    res = subprocess.run(
        [SNAKEMAKE, "--profile", "profiles/slurm", "-n"],
        cwd=dry_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode != 0
    assert "export FACEAGE_CONDA_PREFIX=" in res.stdout + res.stderr


def _job_resources(out: str) -> dict[str, list[dict[str, str]]]:
    """rule -> the `resources:` of each of its jobs, from a dry run's listing."""
    jobs: dict[str, list[dict[str, str]]] = {}
    rule = None
    for line in out.splitlines():
        m = re.match(r"^(?:local)?rule (\w+):", line)
        if m:
            rule = m.group(1)
        m = re.match(r"^\s+resources: (.*)", line)
        if m and rule:
            pairs = (kv.split("=", 1) for kv in m.group(1).split(", "))
            jobs.setdefault(rule, []).append(dict(pairs))
    return jobs


@pytest.mark.workflow
@pytest.mark.parametrize("name", PROFILES)
def test_profile_sizes_the_heavy_rules(dry_copy, name):
    res = dry_run(dry_copy, name, clean_env(FACEAGE_SLURM_ACCOUNT=ACCOUNT))
    assert res.returncode == 0, res.stdout + res.stderr
    jobs = _job_resources(res.stdout)
    assert HEAVY_RULES <= set(jobs)
    for rule in HEAVY_RULES:
        for r in jobs[rule]:
            assert r["slurm_account"] == ACCOUNT
            assert r["slurm_partition"] == "pelle" and "gpu" not in r
            # sizes come from the rules (workflow/rules/resources.smk), not from the profile
            assert int(r["runtime"]) >= 3 and int(r["mem_mb"]) >= 1000
            assert "mem_mb_per_cpu" not in r


def test_profile_holds_only_what_is_slurms():
    """Sizes and retries belong to the rules; the profile names the account and partition."""
    cfg = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert "set-resources" not in cfg and "retries" not in cfg
    assert set(cfg["default-resources"]) == {"slurm_account", "slurm_partition", "runtime"}
    assert not (ROOT / "profiles" / "slurm-gpu").exists()  # no GPU request without GPU builds


@pytest.mark.workflow
def test_make_slurm_profile_makes_the_bare_name_work(dry_copy, tmp_path):
    """The README's `snakemake --profile slurm` finds the profile after `make slurm-profile`."""
    xdg = tmp_path / "xdg"
    env = clean_env(XDG_CONFIG_HOME=str(xdg), FACEAGE_SLURM_ACCOUNT=ACCOUNT)
    subprocess.run(
        ["make", "-s", "-C", str(ROOT), "slurm-profile"], env=env, check=True, timeout=60
    )
    assert (xdg / "snakemake" / "slurm" / "config.yaml").is_file()
    res = subprocess.run(
        [SNAKEMAKE, "--profile", "slurm", "--sdm", "env-modules", "-n", "-F"],
        cwd=dry_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"slurm_account={ACCOUNT}, slurm_partition=pelle" in res.stdout


@pytest.mark.workflow
def test_agedb_with_three_models_is_tens_of_jobs(dry_copy, tmp_path):
    """shards: 8 in config/agedb.yaml: 8 detection + 3 x 8 embedding jobs, under 100 in all."""
    empty = tmp_path / "AgeDB"
    empty.mkdir()
    res = subprocess.run(
        [
            SNAKEMAKE,
            "--profile",
            "profiles/slurm",
            "--sdm",
            "env-modules",
            "-n",
            "--configfile",
            "config/agedb.yaml",
            "--config",
            f"dataset_path={empty}",
            "models=[dlib,insightface,deepface]",
        ],
        cwd=dry_copy,
        env=clean_env(FACEAGE_SLURM_ACCOUNT=ACCOUNT),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    counts = {r: len(j) for r, j in _job_resources(res.stdout).items()}
    assert (counts["detect_faces"], counts["embed"]) == (8, 24), counts
    assert sum(counts.values()) < 100, counts


# --- the demo through a real SLURM ---


@pytest.fixture(scope="module")
def slurm():
    if os.environ.get("FACEAGE_SLURM") != "1":
        missing(
            "slurm",
            "no SLURM: run `scripts/slurm/local-slurm.sh start` (root) and set FACEAGE_SLURM=1",
        )
    try:
        state = sh("sinfo", "-h", "-o", "%T")
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.fail(f"FACEAGE_SLURM=1 but sinfo fails: {exc}")
    assert re.search(r"idle|mixed|allocated", state), f"no usable SLURM node: {state!r}"
    conf = sh("scontrol", "show", "config")
    ctld_log = re.search(r"^SlurmctldLogFile\s*=\s*(\S+)", conf, re.M)
    return {"ctld_log": Path(ctld_log.group(1)) if ctld_log else None}


@pytest.fixture(scope="module")
def demo_runs(slurm, tmp_path_factory):
    """The demo run locally and through SLURM at the same time, from one snapshot of the code."""
    base = tmp_path_factory.mktemp("slurm-demo")
    local = copy_workflow(base / "local")
    shutil.copytree(local, base / "slurm")
    cluster = base / "slurm"
    conda_prefix = str(base / "conda")
    procs = {
        "local": run(["-c2"], local, clean_env(), base / "local.log", timeout=600),
        "slurm": run(
            ["--profile", "profiles/slurm", *TEST_OVERRIDES],
            cluster,
            clean_env(FACEAGE_SLURM_ACCOUNT=ACCOUNT, FACEAGE_CONDA_PREFIX=conda_prefix),
            base / "slurm.log",
            timeout=900,
        ),
    }
    rcs = {name: finish(p) for name, p in procs.items()}
    for name, rc in rcs.items():
        assert rc == 0, f"{name} run failed (exit {rc}); log:\n{tail(procs[name].log)}"
    return {"local": local, "slurm": cluster, "log": (base / "slurm.log").read_text()}


@pytest.mark.workflow
@pytest.mark.slow
def test_heavy_jobs_went_through_slurm(demo_runs, slurm):
    log = demo_runs["log"]
    cfg = yaml.safe_load((demo_runs["slurm"] / "config" / "demo.yaml").read_text())
    submitted = {int(j): Path(p) for j, p in SUBMITTED.findall(log)}
    by_rule: dict[str, list[int]] = {}
    for jobid, path in submitted.items():
        m = re.search(r"/rule_(\w+?)/", str(path))
        assert m, f"unexpected SLURM log path {path}"
        by_rule.setdefault(m.group(1), []).append(jobid)
    # One SLURM job per shard for detection, per model and shard for embedding.
    assert len(by_rule.get("detect_faces", [])) == cfg["shards"], by_rule
    assert len(by_rule.get("embed", [])) == cfg["shards"] * len(cfg["models"]), by_rule
    # The light rules ran in Snakemake itself, never as SLURM jobs.
    local_rules = set(re.findall(r"^localrule (\w+):", log, re.M))
    assert {"clean", "pairs", "scores", "verification_plots", "demo_dataset"} <= local_rules
    assert not local_rules & set(by_rule), (local_rules, by_rule)

    ids = sorted(submitted)
    # squeue still lists finished jobs (MinJobAge=3600): account, partition, state.
    rows = sh("squeue", "-h", "-t", "all", "-j", ",".join(map(str, ids)), "-o", "%i|%a|%P|%T")
    seen = {int(i): (a, p, t) for i, a, p, t in (r.split("|") for r in rows.split())}
    for jobid in ids:
        assert seen.get(jobid) == (ACCOUNT, "pelle", "COMPLETED"), (jobid, seen.get(jobid))
        # The SLURM log of the job is where the profile puts it, and shows the job ran.
        slurm_log = submitted[jobid]
        assert slurm_log.is_relative_to(demo_runs["slurm"] / "logs" / "slurm"), slurm_log
        assert "Finished jobid" in slurm_log.read_text(), slurm_log
    if slurm["ctld_log"] and os.access(slurm["ctld_log"], os.R_OK):
        ctld = slurm["ctld_log"].read_text(errors="replace")
        for jobid in ids:
            assert f"_job_complete: JobId={jobid} WEXITSTATUS 0" in ctld, jobid


@pytest.mark.workflow
@pytest.mark.slow
def test_slurm_results_equal_local_results(demo_runs):
    local = result_tables(demo_runs["local"] / "results")
    cluster = result_tables(demo_runs["slurm"] / "results")
    assert len(local) >= 10
    assert sorted(cluster) == sorted(local)
    different = [name for name in local if local[name] != cluster[name]]
    assert not different, f"tables differ between the local and the SLURM run: {different}"


# --- sizing jobs from benchmarks (faceage.cluster, faceage estimate) ---


def test_estimate_runtime_from_benchmarks(tmp_path):
    from faceage.cluster import images_per_shard, rates, read_benchmarks, suggest

    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for rule, name, s, rss in [
        ("detect_faces", "ds_x_shard0", 20.0, 100.0),
        ("detect_faces", "ds_x_shard1", 60.0, 120.0),
        ("embed", "ds_x_dlib_shard0", 50.0, 700.0),
        ("embed", "other_shard0", 999.0, 1.0),  # another dataset: ignored
    ]:
        (tmp_path / rule).mkdir(exist_ok=True)
        (tmp_path / rule / f"{name}.tsv").write_text(
            header + f"{s}\t0\t{rss}\t0\t0\t0\t0\t0\t50\t{s / 2}\n"
        )
    counts = images_per_shard(pd.DataFrame({"shard": [0] * 100 + [1] * 200}))
    det = rates(read_benchmarks(tmp_path, "ds_x", "detect_faces"), counts, "detect_faces")
    emb = rates(read_benchmarks(tmp_path, "ds_x", "embed"), counts, "embed")
    # Slowest shard per image: shard 1, 60 s / 200 images (shard 0: 20 s / 100).
    assert det.loc[0, "s_per_image"] == pytest.approx(0.3)
    # Snakemake's cpu_time misses the work of a shell job's child process: not a per-image cost
    assert "cpu_s_per_image" not in det.columns
    assert (det.loc[0, "shards"], det.loc[0, "images"]) == (2, 300)
    assert list(emb["model"]) == ["dlib"] and emb.loc[0, "s_per_image"] == pytest.approx(0.5)
    plan = suggest(pd.concat([det, emb]), images=16_000, shards=8, margin=3)
    # 2,000 images x 0.3 s x 3 = 30 min; x 0.5 s x 3 = 50 min. Memory: twice the peak, >= 1000.
    assert list(plan["runtime_min"]) == [30, 50]
    assert list(plan["mem_mb"]) == [1000, 1400]
