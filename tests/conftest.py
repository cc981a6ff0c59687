"""Shared test fixtures: paths, workflow runs shared by several tests, and the test tiers.

Real data and models live in ../shared beside the checkout (research use only,
never copied into the repository). Tests that need them skip with a reason
when it is absent.

Tiers (tests/README.md): every test is in exactly one, the lowest that holds what it touches:

- ``unit``: the package in this process - no Snakemake, no ../shared, no model venv;
- ``workflow``: runs Snakemake (a dry run, ``--lint`` or jobs) on the demo or synthetic files;
- ``e2e``: real data or real outside pieces - ../shared, a model venv, a SLURM cluster, a
  browser, LaTeX (end-to-end runs on real data, and real models on real faces).

A test gets its tier from its marks (``workflow``, ``e2e``; ``shared`` implies ``e2e``) or from
the session runs it uses (:data:`FIXTURE_TIERS`); ``unit`` is added to the rest. While a test
runs, an audit hook notes whether it starts Snakemake, a model venv's interpreter or opens
files in ../shared, and a passing test is reported failed when that is above its tier: a
``unit`` test stays fast because it cannot start Snakemake unnoticed. ``slow`` (longer than
about 15 s on 2 cores, and every test using a session run) is what ``make check`` leaves out.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from capabilities import E2E_PIECES, TOUCHED, missing, need_module, touch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FGNET = SHARED / "datasets" / "fgnet"
UTKFACE = SHARED / "datasets" / "utkface_small"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "helpers"))
sys.path.insert(0, str(ROOT / "scripts"))


# --- tiers -----------------------------------------------------------------------------------

TIERS = ("unit", "workflow", "e2e")
# the session runs below, and the tier (and slowness) of every test that uses one
FIXTURE_TIERS = {
    "demo_run": "workflow",
    "paired_demo_run": "workflow",
    "fgnet_run": "e2e",
    "study_run": "e2e",
}
_SHARED_PREFIX = str(SHARED) + os.sep
_VENVS_PREFIX = str(ROOT / ".venvs") + os.sep
_USES: set[str] | None = None  # what the running test touched (None between tests)


def _audit(event: str, args: tuple) -> None:
    if _USES is None:
        return
    if event in ("open", "os.listdir", "os.scandir"):
        path = args[0] if args else None
        if isinstance(path, (str, bytes, os.PathLike)):
            if os.path.abspath(os.fsdecode(path)).startswith(_SHARED_PREFIX):
                _USES.add("shared")
    elif event == "subprocess.Popen":
        argv = args[1]
        argv = [os.fsdecode(a) for a in argv] if isinstance(argv, (list, tuple)) else [argv]
        head = [str(a) for a in argv[:3]]
        if any(a == "snakemake" or a.endswith(os.sep + "snakemake") for a in head):
            _USES.add("snakemake")
        if head and os.path.abspath(head[0]).startswith(_VENVS_PREFIX):
            _USES.add("venv")


sys.addaudithook(_audit)


def tier_of(item) -> str:
    marks = {m.name for m in item.iter_markers()}
    fixtures = set(getattr(item, "fixturenames", ()))
    tiers = {FIXTURE_TIERS[f] for f in fixtures & set(FIXTURE_TIERS)} | (marks & set(TIERS))
    if "shared" in marks:
        tiers.add("e2e")
    return max(tiers, key=TIERS.index, default="unit")


# pytest-xdist (`make test PYTEST_PARALLEL="-n 4 --dist loadfile"`) runs each work unit on one
# worker; a session or module fixture runs once per worker that needs it. A unit is a test file,
# and all the files that use a session run are one unit, so the session runs are made once (and,
# the largest unit, it goes first). The controller schedules without collecting, so it finds
# those files by name (a session run's name in the file); each worker checks that against what
# its tests use.
def _uses_session_run(item) -> bool:
    return bool(set(getattr(item, "fixturenames", ())) & set(FIXTURE_TIERS))


_RUN_NAME = re.compile(r"\b(" + "|".join(FIXTURE_TIERS) + r")\b")
SESSION_RUNS_UNIT = "session runs"


@functools.cache
def names_a_session_run(test_file: Path) -> bool:
    return bool(_RUN_NAME.search(test_file.read_text()))


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None  # xdist's own
    from xdist.scheduler import LoadFileScheduling

    class SessionRunsTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            test_file = nodeid.split("::", 1)[0]
            if names_a_session_run(config.rootpath / test_file):
                return SESSION_RUNS_UNIT
            return test_file

    return SessionRunsTogether(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = tier_of(item)
        # one tier a test: a workflow run on ../shared's faces is e2e, not also workflow
        item.own_markers[:] = [m for m in item.own_markers if m.name not in TIERS]
        item.add_marker(tier)
        if _uses_session_run(item):
            item.add_marker("slow")
            if not names_a_session_run(item.path):
                raise pytest.UsageError(
                    f"{item.nodeid} uses a session run its file does not name: "
                    "`--dist loadfile` would make that run twice (tests/conftest.py, xdist)"
                )


def tier_problem(item, used: set[str]) -> str | None:
    """Why ``item`` is in too low a tier for what it ``used``, or None."""
    tier = tier_of(item)
    outside = sorted(u for u in used if u in E2E_PIECES or u.startswith("venv"))
    need, why = ("e2e", outside) if outside else ("workflow", ["snakemake"])
    if not outside and "snakemake" not in used:
        return None
    if TIERS.index(need) <= TIERS.index(tier):
        return None
    return (
        f"a {tier!r} test that touched {why}: mark it @pytest.mark.{need} (or use a session "
        "run of that tier; tests/README.md, the tiers)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    global _USES
    _USES = set()  # before the test's fixtures: a module fixture's Snakemake run counts too
    TOUCHED.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or _USES is None:
        return
    problem = tier_problem(item, _USES | TOUCHED)
    if problem and report.passed:
        report.outcome = "failed"
        report.longrepr = problem


def pytest_runtest_teardown(item):
    global _USES
    _USES = None


def need_shared(path: Path = SHARED) -> None:
    touch("shared")
    if not path.exists():
        missing("shared", f"needs {path} (../shared with real faces/models is absent here)")


def run_workflow(
    workdir: Path,
    *args: str,
    configfile: Path | None = None,
    cores: int = 2,
    check: bool = True,
    env: dict | None = None,
    timeout: int = 1800,
    targets: tuple[str, ...] = (),
) -> subprocess.CompletedProcess:
    """Run the workflow with ``workdir`` as working directory; returns the completed process."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = SNAKEMAKE + [
        *targets,
        "-s",
        str(ROOT / "workflow" / "Snakefile"),
        "-d",
        str(workdir),
        f"-c{cores}",
        "--configfile",
        str(configfile or ROOT / "config" / "demo.yaml"),
        *args,
    ]
    proc = subprocess.run(
        cmd,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"workflow failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


@pytest.fixture
def conf():
    """conf(**keys): a dataset's configuration, ``keys`` over a tiny demo one, defaults filled
    in from workflow/schemas/config.schema.yaml (as faceage.workflow.settings resolves it)."""
    import copy

    from snakemake.utils import validate

    def make(**keys):
        c = copy.deepcopy({"dataset_format": "demo", "dataset_path": "resources/demo", **keys})
        validate(c, schema=str(ROOT / "workflow" / "schemas" / "config.schema.yaml"))
        return c

    return make


def write_measured_run(work: Path) -> None:
    """A finished run of dataset ``tiny`` as `faceage estimate` reads it: 6 images in 2 shards
    (manifests) and a benchmark of 3 s per shard job for detect_faces and dlib's embed (1 s per
    image)."""
    import pandas as pd

    man = work / "results" / "tiny" / "clean"
    man.mkdir(parents=True)
    rows = [
        {"image_id": f"p{i}.jpg", "path": f"/x/p{i}.jpg", "person": f"p{i % 2}", "age": 20 + i}
        | {"gender": "", "source": "tiny", "shard": i % 2}
        for i in range(6)
    ]
    pd.DataFrame(rows).to_csv(man / "manifest.tsv", sep="\t", index=False)
    pd.DataFrame(rows).to_csv(man.parent / "manifest.tsv", sep="\t", index=False)
    for rule, name in (("detect_faces", "tiny_shard{}"), ("embed", "tiny_dlib_shard{}")):
        (work / "benchmarks" / rule).mkdir(parents=True)
        for shard in (0, 1):
            (work / "benchmarks" / rule / f"{name.format(shard)}.tsv").write_text(
                "s\th:m:s\tmax_rss\tcpu_time\n3.0\t0:00:03\t200.0\t2.5\n"
            )


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The bundled demo (synthetic faces, eigenfaces), run once; returns its workdir (with
    ``settings_read/``: what each step was given and read, tests/test_rule_settings.py)."""
    work = tmp_path_factory.mktemp("demo")
    run_workflow(work, env=settings_report(work))
    return work


def settings_report(work: Path) -> dict:
    """The environment that has each step note the settings it read (faceage.steps)."""
    (work / "settings_read").mkdir(parents=True, exist_ok=True)
    return {"FACEAGE_SETTINGS_REPORT": str(work / "settings_read")}


# A second model for the demo: a rule of the user's own (README, "Adding a model") whose
# embeddings know the person (one random direction per person plus a little noise: a perfect
# model), with one image not enrolled.
SECOND_MODEL = """
include: "{root}/workflow/Snakefile"


rule my_model:
    input:
        f"{{RESULTS}}/clean/manifest.tsv",
    output:
        f"{{RESULTS}}/embeddings/mymodel.npz",
    log:
        log_path("my_model"),
    run:
        import numpy as np
        from faceage.contracts import read_table, write_embeddings

        man = read_table(input[0])
        n = len(man)
        rng = np.random.default_rng(0)
        base = {{p: rng.normal(size=16) for p in sorted(set(man["person"]))}}
        vec = np.stack([base[p] + 0.1 * rng.normal(size=16) for p in man["person"]])
        status = ["ok"] * n
        status[0] = "no_face"
        write_embeddings(output[0], man["image_id"], vec, status, np.full(n, -1),
                         np.full((n, 4), np.nan), np.full(n, np.nan))
"""


@pytest.fixture(scope="session")
def paired_demo_run(tmp_path_factory) -> Path:
    """The demo with two models (eigenfaces and a rule of the user's own), so that the paired
    comparison runs; its workdir holds ``Snakefile`` and ``config.yaml`` for further runs, and
    ``settings_read/``. About a minute on 2 cores."""
    import yaml

    work = tmp_path_factory.mktemp("paired_demo")
    (work / "Snakefile").write_text(SECOND_MODEL.format(root=ROOT))
    config = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text())
    config |= {"models": ["eigenfaces", "mymodel"], "custom_models": ["mymodel"]}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    run_workflow(
        work,
        "-s",
        str(work / "Snakefile"),
        configfile=work / "config.yaml",
        env=settings_report(work),
        targets=("all",),  # the first rule of a Snakefile that includes is not rule all
    )
    return work


@pytest.fixture(scope="session")
def fgnet_run(study_run) -> Path:
    """Real FG-NET through the whole workflow, once a session: the ``fgnet`` dataset of
    :func:`study_run` - the preset as users run it (config/fgnet.yaml: HOG cleaning, matched
    impostors drawn within folds, the age/gender branch, every cross-person pair in the
    operating pool) with the study's FG-NET models (:data:`FGNET_MODELS`). Every test that reads
    FG-NET results reads this run; the preset's dlib outputs do not depend on the other models."""
    return study_run


# The models of every verification dataset of the study (the FG-NET protocol's too).
STUDY_MODELS = ["dlib", "insightface"]
# FG-NET's in the study: dlib, the original study's three libraries with real weights, each in
# its venv, and the eigenfaces baseline. insightface_paddle and deepface join where their venvs
# are built (`make venv-paddle venv-x2paddle venv-deepface`; CI builds and declares them).
FGNET_MODELS = ["dlib", "insightface", "insightface_paddle", "deepface", "eigenfaces"]


def study_models(work: Path, dataset: str = "fgnet") -> list[str]:
    """The models a dataset of :func:`study_run` ran with."""
    import json

    return json.loads((work / "study.yaml").read_text())["datasets"][dataset]["models"]


def _venv_or_none(env: str) -> Path | None:
    """The env's interpreter, or None where it is not built (CI: a failure, FACEAGE_PROVIDES)."""
    from model_env import env_python

    try:
        return env_python(env)
    except pytest.skip.Exception:
        return None


@pytest.fixture(scope="session")
def study_run(tmp_path_factory) -> Path:
    """Issue 24's study on real data, one run (10-20 minutes on 2 cores): FG-NET (the preset
    with :data:`FGNET_MODELS`: dlib, the insightface pack built from ../shared's SCRFD-500M +
    MobileFaceNet, the same MobileFaceNet converted for insightface-paddle, deepface's Dlib
    model with its YuNet detector and eigenfaces), the UTKFace subset (the age and gender branch
    only), a CSV protocol of 300 FG-NET pairs (dlib and insightface) and the demo
    (config/demo.yaml as its preset: the bundled demo's settings). Returns its workdir
    (``study.yaml``: each dataset's models). Skips without ../shared, dlib or the insightface
    venv."""
    import json

    import numpy as np

    need_shared(FGNET)
    need_shared(UTKFACE)
    need_module("dlib", reason="dlib-bin is not installed in this environment")
    from fgnet_protocol import fgnet_files, fgnet_protocol
    from model_env import (
        SHARED_MODELS,
        env_python,
        link_deepface_dlib_weights,
        link_insightface_testpack,
        paddle_from_onnx,
    )

    work = tmp_path_factory.mktemp("study")
    pack = link_insightface_testpack(work / "weights")
    envs = {"insightface": str(env_python("insightface"))}
    model_settings = {"insightface": {"pack": pack}}
    if py := _venv_or_none("deepface"):
        envs["deepface"] = str(py)
        link_deepface_dlib_weights(work / "weights", yunet=True)
        # deepface's YuNet detector: about a third of its dlib detector's time on FG-NET
        model_settings["deepface"] = {"model_name": "Dlib", "detector_backend": "yunet"}
    if (py := _venv_or_none("paddle")) and _venv_or_none("x2paddle"):
        envs["paddle"] = str(py)
        rec = work / "paddle" / "MobileFaceNet"  # temporary, never committed
        paddle_from_onnx(SHARED_MODELS / "mobilefacenet.onnx", rec)
        # run by the package's own predictor on the cleaning stage's boxes
        model_settings["insightface_paddle"] = {"rec_model": str(rec), "det_model": "clean"}
    fgnet_models = [m for m in FGNET_MODELS if m in {"dlib", "eigenfaces"} | set(model_settings)]
    protocol = work / "fgnet_pairs.csv"
    fgnet_protocol(fgnet_files(FGNET), np.random.default_rng(20), 300).to_csv(protocol, index=False)
    # The top level beats a dataset's preset (faceage.workflow.settings), so it holds only what
    # every dataset shares; the models are each dataset's own (the demo keeps its preset's).
    config = {
        "python_envs": envs,
        "weights_dir": str(work / "weights"),
        "model_settings": model_settings,
        "datasets": {
            "fgnet": {  # the preset as users run it (fgnet_run), with the study's models
                "configfile": str(ROOT / "config" / "fgnet.yaml"),
                "dataset_path": str(FGNET),
                "models": fgnet_models,
            },
            "utkface": {  # no identities: ages and genders only
                "dataset_format": "utkface",
                "dataset_path": str(UTKFACE),
                "models": [],
                # the estimator finds the face itself: no cleaning detector (as README's UTKFace
                # command runs it)
                "clean": {"detector": "none", "min_images_per_person": 1},
                "comparisons": {"impostors": "none"},
                "attributes": {"enabled": True, "estimators": ["agegender"]},
            },
            "fgnet_pairs": {
                "dataset_format": "protocol",
                "models": STUDY_MODELS,
                "protocols": [{"file": str(protocol), "format": "csv", "images": str(FGNET)}],
            },
            # the bundled demo, as demo_run runs it alone
            "demo": {"configfile": str(ROOT / "config" / "demo.yaml")},
        },
    }
    cfg = work / "study.yaml"
    cfg.write_text(json.dumps(config))
    run_workflow(work, configfile=cfg, timeout=3600, env=settings_report(work))
    return work
