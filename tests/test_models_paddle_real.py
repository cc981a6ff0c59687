"""insightface-paddle with real weights: ../shared's MobileFaceNet ONNX converted at run time
(`faceage paddle-from-onnx`, in .venvs/x2paddle) into a temporary Paddle model folder - never
committed - and run through the package's own predictor in .venvs/paddle.

The vectors must equal onnxruntime's on the same 112x112 crops (the package's preprocessing:
RGB, (x/255 - 0.5)/0.5), both through the aligned-crop path and through `det_model: clean,
align: none` (the cleaning stage's box, cropped and resized by the package's Recognizer). The
eye-aligned path (`align: eyes`, the default with `det_model: clean`) runs on all of FG-NET in
tests/test_paired_comparison_run.py."""

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from model_env import (  # noqa: E402
    env_python,
    need_shared,
    paddle_from_onnx,
    plain_manifest,
    run_in_env,
)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    onnx = need_shared("models", "mobilefacenet.onnx")
    env_python("paddle")
    folder = tmp_path_factory.mktemp("paddle_real") / "MobileFaceNet"
    info = paddle_from_onnx(onnx, folder)
    return onnx, folder, info


@pytest.mark.e2e
def test_converter_writes_the_package_layout_and_folds_every_clip(converted):
    _, folder, info = converted
    assert {"inference.pdmodel", "inference.pdiparams"} <= set(info["files"])
    assert (folder / "inference.pdmodel").stat().st_size > 0
    # MobileFaceNet's ReLU6s are clips; without the fold Paddle's oneDNN fuse drops them
    assert info["clip_ops_folded"] > 0


def _crops(folder: Path, n: int = 8) -> list[Path]:
    """112x112 centre crops of FG-NET photos (greyscale ones included) and one of noise."""
    files = sorted(need_shared("datasets", "fgnet").glob("*.JPG"))[::97][:n]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for f in files:
        im = Image.open(f).convert("RGB")
        w, h = im.size
        s = min(w, h)
        box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
        out.append(folder / f"{f.stem}.png")
        im.crop(box).resize((112, 112), Image.BILINEAR).save(out[-1])
    noise = np.random.default_rng(0).integers(0, 256, (112, 112, 3), dtype=np.uint8)
    out.append(folder / "noise.png")
    Image.fromarray(noise).save(out[-1])
    return out


def _onnxruntime_vectors(onnx: Path, crops: list[Path]) -> np.ndarray:
    import onnxruntime as ort

    x = np.stack([np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) for p in crops])
    x = ((x / 255.0 - 0.5) / 0.5).transpose(0, 3, 1, 2)
    sess = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(x)})[0]


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.shared
@pytest.mark.parametrize("mode", ["aligned", "clean_box"])
def test_package_predictor_on_converted_model_equals_onnxruntime(converted, tmp_path, mode):
    onnx, folder, _ = converted
    crops = _crops(tmp_path / "crops")
    manifest = plain_manifest(tmp_path / "manifest.tsv", crops, [p.stem for p in crops])
    settings = {"rec_model": str(folder), "det_model": "none", "aligned_input": True}
    if mode == "clean_box":  # the whole crop as the cleaning stage's face box
        settings = {"rec_model": str(folder), "det_model": "clean", "align": "none"}
        for col, value in (("face_left", 0.0), ("face_top", 0.0)):
            manifest[col] = value
        manifest["face_right"] = manifest["face_bottom"] = 112.0
        manifest["n_faces"], manifest["face_score"] = 1, 1.0
        from faceage.contracts import write_manifest

        write_manifest(manifest, tmp_path / "manifest.tsv")
    emb = run_in_env(
        "paddle",
        "insightface_paddle",
        settings,
        tmp_path / "weights",
        tmp_path / "manifest.tsv",
        tmp_path / "out",
        batch_size=4,
    )
    assert list(emb["status"]) == ["ok"] * len(crops)
    ref = _onnxruntime_vectors(onnx, crops)
    cos = _cosine(emb["vectors"].astype(np.float64), ref.astype(np.float64))
    assert emb["vectors"].shape == ref.shape == (len(crops), 128)
    assert cos.min() > 0.9999, cos
    print(f"{mode}: cosine to onnxruntime min {cos.min():.8f} over {len(crops)} crops")
    # the wrong channel order is far off: the check can fail
    bgr = _onnxruntime_vectors(onnx, [_bgr(p, tmp_path) for p in crops])
    assert _cosine(emb["vectors"].astype(np.float64), bgr.astype(np.float64)).mean() < 0.99


def _bgr(path: Path, tmp: Path) -> Path:
    out = tmp / "bgr" / path.name
    out.parent.mkdir(exist_ok=True)
    Image.fromarray(np.asarray(Image.open(path).convert("RGB"))[..., ::-1].copy()).save(out)
    return out
