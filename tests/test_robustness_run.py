"""Interruptions, determinism, bad configs, missing weights/packages, no network, privacy (issue 7).

Every test runs the real workflow (``snakemake -s Snakefile -d <tmp>``) on a
synthetic demo made at test time (eigenfaces: no weights, no face images in
the repository). The reference run happens in a network namespace without any
network (``unshare -n``) when the machine allows it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from capabilities import missing  # noqa: E402
from PIL import Image

from faceage.contracts import EMBEDDING_ARRAYS

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
BASE_CONFIG = ROOT / "config" / "demo.yaml"
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
# Big enough that one embedding job takes about a second (time to kill it half-way).
DEMO = {
    "demo": {"persons": 20, "images_per_person": 10, "size": 256, "seed": 7},
    "shards": 2,
    "model_settings": {"eigenfaces": {"batch_size": 2}},
}
RES = "results/demo"
# Outputs that measure time (benchmarks): they differ between any two runs by nature.
TIMED = ("timing",)


def snakemake(
    work: Path,
    *args: str,
    extra: dict | None = None,
    prefix: tuple[str, ...] = (),
    cores: int = 2,
    popen: bool = False,
    timeout: int = 900,
):
    """Run the workflow in ``work`` with config/demo.yaml plus ``extra`` (a JSON overlay)."""
    work.mkdir(parents=True, exist_ok=True)
    overlay = work.parent / f"{work.name}.config.json"
    overlay.write_text(json.dumps(extra if extra is not None else DEMO))
    cmd = [
        *prefix,
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(SNAKEFILE),
        "-d",
        str(work),
        f"-c{cores}",
        "--configfile",
        str(BASE_CONFIG),
        str(overlay),
        *args,
    ]
    if popen:  # output to a file: a pipe nobody reads would stall Snakemake
        with open(work.parent / f"{work.name}.out", "w") as out:
            return subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def tree(work: Path) -> dict[str, bytes]:
    """Every file under results/, by relative path (Snakemake's own marker files left out)."""
    out = {}
    for p in sorted((work / "results").rglob("*")):
        if p.is_file() and p.name != ".snakemake_timestamp":
            out[p.relative_to(work).as_posix()] = p.read_bytes()
    return out


def differences(a: Path, b: Path) -> list[str]:
    ta, tb = tree(a), tree(b)
    diff = sorted(set(ta) ^ set(tb))
    diff += [
        k for k in sorted(set(ta) & set(tb)) if ta[k] != tb[k] and not any(t in k for t in TIMED)
    ]
    return diff


def netns_prefix() -> tuple[str, ...]:
    """``unshare -n`` (a network namespace with only a downed loopback) when allowed here."""
    if (
        shutil.which("unshare")
        and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    ):
        return ("unshare", "-n")
    return ()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, bool]:
    """An uninterrupted run (and its report) without network; returns (workdir, was it offline)."""
    work = tmp_path_factory.mktemp("reference") / "w"
    prefix = netns_prefix()
    ok(snakemake(work, prefix=prefix))
    ok(snakemake(work, "--report", str(work / "report.zip"), prefix=prefix))
    return work, bool(prefix)


def embed_log(work: Path, shard: int) -> Path:
    return work / "logs" / "embed" / f"demo_eigenfaces_shard{shard}.log"


def progress(log: Path) -> float:
    """Share of its images the embedding job says it has embedded (0 when no line yet)."""
    if log.is_file():
        for line in reversed(log.read_text().splitlines()):
            if "so far" in line:
                done, total = (int(x) for x in line.split("embedded ")[1].split()[0].split("/"))
                return done / total
    return 0.0


def stop_half_way(
    proc: subprocess.Popen, work: Path, shard: int, at_least: float, timeout: float = 600
) -> int:
    """Find the embedding job of ``shard``, let it run in 3 ms slices until its log says it
    embedded >= ``at_least`` of its images, and leave it stopped (SIGSTOP); return its pid.

    Slicing with SIGSTOP/SIGCONT makes "half-way" certain however fast the job or busy the machine.
    """
    deadline = time.monotonic() + timeout
    pids: list[int] = []
    while not pids:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(
                f"no embedding job for shard {shard} (returncode {proc.returncode})"
            )
        pids = embed_job_pids(proc.pid, shard)
        time.sleep(0.005)
    pid = pids[0]
    os.kill(pid, signal.SIGSTOP)
    log = embed_log(work, shard)
    while progress(log) < at_least:
        if time.monotonic() > deadline or not Path(f"/proc/{pid}").exists():
            raise AssertionError(
                f"the job ended before {at_least:.0%} progress: {log.read_text()[-2000:]}"
            )
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.003)
        os.kill(pid, signal.SIGSTOP)
    return pid


def embed_job_pids(session: int, shard: int) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
            sid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[3])
        except (OSError, IndexError, ValueError):
            continue
        if (
            sid == session
            and b"faceage" in cmd
            and b"embed" in cmd
            and f"shard={shard}".encode() in cmd
        ):
            if cmd[cmd.index(b"--wildcard") + 1] == f"shard={shard}".encode():
                pids.append(int(d.name))
    return pids


def assert_nothing_half_written(work: Path) -> None:
    """No output that looks complete is partial.

    The killed shard's file is absent, the rest load.
    """
    emb = work / RES / "embeddings" / "eigenfaces"
    assert not (emb / "shard_0.npz").exists(), "the killed job left an output that looks complete"
    for p in (work / "results").rglob("*"):
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                [z[k] for k in z.files]  # every array reads
        elif p.suffix in (".tsv", ".csv") and not p.name.startswith("."):
            assert p.read_text().endswith("\n"), f"{p} ends mid-line"


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> tuple[Path, str, str, subprocess.CompletedProcess]:
    """A run whose embedding job for shard 0 is SIGKILLed (as a cluster would) once
    it has embedded at least 30 % of its images (and before it ends), then re-run plainly.

    Returns (workdir, the progress line at the kill, the killed job's log, the re-run).
    """
    work = tmp_path_factory.mktemp("interrupted") / "w"
    # retries 0: Snakemake would otherwise try the killed job again within the same run
    proc = snakemake(work, popen=True, extra={**DEMO, "retries": 0})
    pid = stop_half_way(proc, work, 0, at_least=0.3)
    line = embed_log(work, 0).read_text().splitlines()[-1]
    os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=600)
    assert proc.returncode != 0, "Snakemake did not notice the killed job"
    killed_log = embed_log(work, 0).read_text()
    assert_nothing_half_written(work)
    again = ok(snakemake(work))
    return work, line, killed_log, again


@pytest.mark.workflow
@pytest.mark.slow
def test_kill_embedding_job_then_rerun_equals_uninterrupted(reference, interrupted):
    """A cluster kills one embedding job (SIGKILL) half-way; a plain re-run finishes the study."""
    ref, _ = reference
    work, line, killed_log, again = interrupted
    assert "so far" in killed_log and "embedded {" not in killed_log, (
        "the job was not killed half-way"
    )
    assert "rule embed:" in again.stdout + again.stderr  # the killed job ran again
    assert differences(ref, work) == [], f"killed at: {line}"


@pytest.mark.workflow
@pytest.mark.slow
def test_kill_whole_run_then_unlock_and_rerun_equals_uninterrupted(reference, tmp_path):
    """The node dies (SIGKILL to Snakemake and every job): --unlock, re-run, same results."""
    ref, _ = reference
    work = tmp_path / "w"
    proc = snakemake(work, popen=True)
    stop_half_way(proc, work, 0, at_least=0.4)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    time.sleep(0.5)
    assert not embed_job_pids(proc.pid, 0), "the embedding job survived the kill"
    assert_nothing_half_written(work)
    locked = snakemake(work)
    said = locked.stdout + locked.stderr
    # Snakemake refuses: the lock of the dead run, or (checked first when a job died mid-write)
    # its incomplete files; both are cleared below
    assert locked.returncode != 0 and ("--unlock" in said or "Incomplete files" in said)
    ok(snakemake(work, "--unlock"))
    # up to the scores: what follows them reads only files this comparison covers (the
    # plain re-run of the whole study is test_kill_embedding_job_then_rerun_equals_uninterrupted)
    ok(snakemake(work, "--rerun-incomplete", "--until", "scores"))
    made = tree(work)
    for must in ("embeddings/eigenfaces.npz", "scores/eigenfaces.parquet", "pairs.parquet"):
        assert f"{RES}/{must}" in made, must
    assert [k for k, v in made.items() if tree(ref).get(k) != v] == []


@pytest.mark.workflow
@pytest.mark.slow
def test_two_runs_same_config_are_byte_identical(reference, interrupted):
    """Everything under results/: tables, pairs (seeded sampling), t-SNE coordinates, npz, plots.

    The two runs are independent: another folder, the interrupted one in two
    Snakemake invocations, with and without a network namespace. Only the
    benchmark-derived timing tables may differ.
    """
    ref, _ = reference
    work = interrupted[0]
    assert differences(ref, work) == []
    files = tree(ref)
    for must in (
        "projections/eigenfaces.tsv",
        "pairs.parquet",
        "tables/similarity_by_gap.csv",
        "embeddings/eigenfaces.npz",
        "clean/manifest.tsv",
    ):
        assert any(k.endswith(must) for k in files), must
    proj = (ref / RES / "projections" / "eigenfaces.tsv").read_text()
    assert "tsne" in proj  # t-SNE coordinates are among the compared bytes
    timed = [k for k in files if any(t in k for t in TIMED)]
    assert len(timed) <= 3, timed


def test_atomic_write_killed_mid_write_leaves_no_file(tmp_path):
    """SIGKILL while a large table is being written.

    The target never appears, half-written or not.
    """
    target = tmp_path / "big.tsv"
    code = (
        "import sys, pandas as pd, numpy as np\n"
        "from faceage.contracts import write_table\n"
        "df = pd.DataFrame(np.random.default_rng(0).random((3_000_000, 8)))\n"
        "print('writing', flush=True)\n"
        "write_table(df, sys.argv[1])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(target)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.stdout.readline().strip() == "writing"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        parts = list(tmp_path.glob(".big.tsv.*.part"))
        if parts and parts[0].stat().st_size > 1_000_000:
            break
        time.sleep(0.01)
    else:
        pytest.fail("the temporary file never grew")
    proc.kill()
    proc.wait()
    assert not target.exists()
    assert parts[0].name.startswith(".") and parts[0].name.endswith(
        ".part"
    )  # hidden, clearly partial


def test_atomic_write_keeps_group_readable_permissions(tmp_path):
    from faceage.contracts import write_table

    old = os.umask(0o002)
    try:
        import pandas as pd

        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.tsv")
    finally:
        os.umask(old)
    assert (tmp_path / "t.tsv").stat().st_mode & 0o777 == 0o664


BAD_CONFIGS = {
    "unknown key": (
        {"colour": "red"},
        ["colour: unknown key", "allowed at the top level", "dataset_format"],
    ),
    "unknown nested key": (
        {"clean": {"detecter": "hog"}},
        ["clean.detecter: unknown key", "did you mean 'detector'", "min_images_per_person"],
    ),
    "wrong type": (
        {"shards": "two"},
        ["'two' is not of type 'integer'", "['shards']", "'minimum': 1"],
    ),
    "value not allowed": (
        {"clean": {"detector": "cnn"}},
        ["'cnn' is not one of ['hog', 'mmod', 'none']", "['clean']['detector']"],
    ),
    "missing dataset folder": (
        {"dataset_format": "folders", "dataset_path": "/nonexistent/faces"},
        ["dataset_path: folder '/nonexistent/faces' does not exist", "needs a folder"],
    ),
    "unknown model": (
        {"models": ["facenet512"]},
        ["unknown model 'facenet512'", "known: ", "eigenfaces", "custom_models"],
    ),
}


# Caught after resolve, by the checks JSON Schema cannot express (_check_config in
# workflow/rules/config.smk: faceage.workflow.settings.study_problems), not by resolve.
CHECKED_AFTER_RESOLVE = ("missing dataset folder", "unknown model")


def resolve_as_config_smk(overlay: dict, work: Path) -> tuple[dict, dict]:
    """(RUN, DATASETS) as workflow/rules/config.smk resolves ``--configfile config/demo.yaml
    <overlay>`` (what :func:`snakemake` gives): Snakemake's merge of the files, its
    ``validate`` against the schema, no --config; ``work`` is the working directory."""
    from snakemake.common.configfile import load_configfile
    from snakemake.utils import update_config, validate

    from faceage.workflow import settings

    files = [BASE_CONFIG, work.parent / f"{work.name}.config.json"]
    files[1].write_text(json.dumps(overlay))
    config: dict = {}
    for f in files:
        update_config(config, load_configfile(str(f)))
        settings.load_yaml(f)
    return settings.resolve(
        config,
        schema=yaml.safe_load(SCHEMA.read_text()),
        validate=lambda c: validate(c, schema=str(SCHEMA)),
        cli={},
        demo_preset=BASE_CONFIG if settings.uses_demo(config, files, False) else None,
    )


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_invalid_config_is_named_by_resolve_or_the_checks(case, tmp_path, monkeypatch):
    """Each bad configuration's message, from the code config.smk calls: resolve's
    ConfigError, or (CHECKED_AFTER_RESOLVE) the checks after it. That the message reaches the
    user and no job starts: test_invalid_config_stops_before_any_job."""
    from faceage.protocols.dataset import protocols_from_config
    from faceage.workflow import settings

    overlay, expected = BAD_CONFIGS[case]
    work = tmp_path / "w"
    work.mkdir()
    monkeypatch.chdir(work)  # relative paths (dataset_path) as Snakemake's -d gives them
    if case in CHECKED_AFTER_RESOLVE:
        run, datasets = resolve_as_config_smk(overlay, work)
        protocols = {n: protocols_from_config(c["protocols"]) for n, c in datasets.items()}
        text = "\n  ".join(settings.study_problems(run, datasets, protocols))
    else:
        with pytest.raises(settings.ConfigError) as err:
            resolve_as_config_smk(overlay, work)
        text = str(err.value)
    for fragment in expected:
        assert fragment in text, f"{fragment!r} not in:\n{text}"


# One Snakemake run per way a bad configuration stops the workflow: resolve's ConfigError
# (wrapped in config.smk, "wrong type": Snakemake's validate reads the schema by its path
# relative to the rules) and _check_config's problems, all of them in one message.
SNAKEMAKE_CASES = {
    "wrong type": ("wrong type",),
    "missing dataset folder + unknown model": CHECKED_AFTER_RESOLVE,
}


@pytest.mark.workflow
@pytest.mark.parametrize("case", sorted(SNAKEMAKE_CASES))
def test_invalid_config_stops_before_any_job(case, tmp_path):
    overlay, expected = {}, []
    for name in SNAKEMAKE_CASES[case]:
        overlay.update(BAD_CONFIGS[name][0])
        expected += BAD_CONFIGS[name][1]
    work = tmp_path / "w"
    proc = snakemake(work, extra=overlay, timeout=120)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for fragment in ["invalid configuration:", *expected]:
        assert fragment in text, f"{fragment!r} not in:\n{text[-3000:]}"
    for made in ("results", "logs", "resources"):
        assert not (work / made).exists(), f"a job ran: {made}/ exists"


TINY = {
    "demo": {"persons": 3, "images_per_person": 5, "size": 64, "seed": 1},
    "shards": 1,
    "analysis": {"balanced_per_range": 2},
}


def assert_no_embedding(work: Path, model: str) -> None:
    assert not (work / "logs" / "embed").exists(), "an embedding job started"
    assert not (work / RES / "embeddings" / model / "provenance.json").exists()


@pytest.mark.workflow
@pytest.mark.slow
def test_missing_weights_named_before_any_embedding(tmp_path):
    """insightface with an empty weights folder.

    Each file, its folder and its source appear in Snakemake's output.
    """
    weights = tmp_path / "weights"
    weights.mkdir()
    work = tmp_path / "w"
    proc = snakemake(work, extra={**TINY, "models": ["insightface"], "weights_dir": str(weights)})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    folder = weights / "insightface" / "models" / "buffalo_l"
    for fragment in (
        "det_10g.onnx",
        "w600k_r50.onnx",
        f"expected in folder {folder}/",
        "releases/download/v0.7/buffalo_l.zip",
        "download_weights",
    ):
        assert fragment in out, f"{fragment!r} not in Snakemake's output:\n{out[-3000:]}"
    assert_no_embedding(work, "insightface")


@pytest.mark.workflow
@pytest.mark.slow
def test_missing_package_named_before_any_embedding(tmp_path):
    """The weights are there but the model's package is not importable in its interpreter."""
    import importlib.util

    if importlib.util.find_spec("insightface") is not None:
        pytest.skip("insightface is importable in this interpreter; the case cannot be made here")
    weights = tmp_path / "weights"
    pack = weights / "insightface" / "models" / "buffalo_l"
    pack.mkdir(parents=True)
    for name in ("det_10g.onnx", "w600k_r50.onnx"):
        (pack / name).write_bytes(b"")  # present; never read, the package is missing first
    work = tmp_path / "w"
    proc = snakemake(
        work,
        extra={
            **TINY,
            "models": ["insightface"],
            "weights_dir": str(weights),
            "python_envs": {"insightface": sys.executable},
        },
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for fragment in (
        "needs the Python package 'insightface'",
        "envs/insightface.yaml",
        "scripts/make-venv insightface",
        "python_envs.insightface",
    ):
        assert fragment in out, f"{fragment!r} not in Snakemake's output:\n{out[-3000:]}"
    assert_no_embedding(work, "insightface")


@pytest.mark.workflow
@pytest.mark.slow
def test_runs_without_network(reference):
    ref, offline = reference
    if not offline:
        missing(
            "netns",
            "cannot create a network namespace here (unshare -n needs root or user namespaces)",
        )
    probe = subprocess.run(
        [
            "unshare",
            "-n",
            sys.executable,
            "-c",
            "import socket; socket.create_connection(('pypi.org', 443), timeout=5)",
        ],
        capture_output=True,
        text=True,
    )
    assert probe.returncode != 0, "the namespace has network: the reference run proves nothing"
    assert (ref / RES / "tables" / "similarity_within_range.csv").is_file()
    assert (ref / "report.zip").is_file()


def image_like(arr: np.ndarray) -> bool:
    return arr.ndim >= 3 or (arr.dtype == np.uint8 and arr.ndim == 2)


@pytest.mark.workflow
@pytest.mark.slow
def test_no_face_pixels_in_results_or_report(reference):
    """Only plots are images; npz files hold the contract's arrays, none shaped like an image."""
    ref, _ = reference
    plots = set()
    for p in sorted((ref / "results").rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(ref).as_posix()
        try:
            with Image.open(p) as im:
                im.size  # noqa: B018 - it is an image
            is_image = True
        except Exception:  # noqa: BLE001 - anything Pillow cannot open is not an image
            is_image = False
        if is_image:
            assert p.suffix == ".png" and ("/plots/" in rel or "/verification/" in rel), (
                f"image output {rel}"
            )
            plots.add(p.name)
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                assert sorted(z.files) == sorted(EMBEDDING_ARRAYS), f"{rel} holds {z.files}"
                n = len(z["image_id"])
                assert z["vectors"].ndim == 2 and z["vectors"].shape[0] == n
                assert z["vectors"].dtype == np.float32
                bad = [k for k in z.files if image_like(z[k])]
                assert not bad, f"{rel}: arrays shaped like images {bad}"
    assert not list((ref / "results").rglob("pca.npz")), (
        "the eigenfaces PCA (mean face) outlived the run"
    )
    with zipfile.ZipFile(ref / "report.zip") as report:
        for name in report.namelist():
            if name.lower().endswith(
                (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".svg", ".webp", ".tif")
            ):
                assert Path(name).name in plots, f"report holds an image that is not a plot: {name}"
