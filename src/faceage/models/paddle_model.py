"""insightface-paddle (PaddlePaddle's BlazeFace detector + MobileFace/ArcFace recogniser).

Runs the package's own predictor, ``InsightFace.predict_np_img``, one image at
a time (the package batches the faces of one image, not images): BlazeFace
boxes (image resized to ``det_size`` x ``det_size`` without keeping the aspect
ratio, the package's way), then each box cropped and resized to 112x112 -
there is no landmark alignment in this package - and normalised to [-1, 1] in
RGB. The chosen face's vector is kept (the workflow's ``face_choice``).

Weights: a local model folder per network, ``<weights_dir>/insightface_paddle/<name>/`` holding
``inference.pdmodel`` and ``inference.pdiparams`` (the layout the package uses
under ``~/.insightface/ppmodels/``), so the default location is
``resources/weights/insightface_paddle/{BlazeFace,MobileFace}/``. ``rec_model``
and ``det_model`` may also be absolute folder paths.

Detection can be replaced: ``det_model: clean`` takes the cleaning stage's face box instead of
a BlazeFace box. With ``align: eyes`` (the default) the face is then aligned the way the
recogniser was trained (ArcFace's 112x112 template): dlib's 5-point landmarks in the box give
the eye centres, a similarity transform puts them on the template's eyes, and the package's
``Recognizer`` embeds the aligned crop. With ``align: none`` the package's own way is kept: the
box (grown by ``box_margin`` of its size on every side) cropped and resized to 112x112, no
alignment. ``det_model: none`` takes the whole image as the face. Images the protocol marks as
aligned crops are recognised as they are (``embed_aligned``).

Settings (``model_settings.insightface_paddle``): ``rec_model`` (MobileFace |
ArcFace | folder), ``det_model`` (BlazeFace | folder | none: the whole image is
the face, for pre-cropped datasets), ``det_size`` (640, the package's fixed
value), ``det_thresh`` (0.8, the package's default), ``use_gpu`` (false),
``cpu_threads`` (1), ``enable_mkldnn`` (false), ``multi_face`` (centre | largest | drop),
``align`` (eyes | none) and ``box_margin`` (0.0), with ``det_model: clean``,
``weights_dir`` (the folder holding the network folders; empty:
``<weights_dir>/insightface_paddle``).

PaddlePaddle 3.x must run with ``FLAGS_enable_pir_api=0`` to use these
``.pdmodel`` programs; the adapter sets it before importing paddle. Never import
tensorflow in the same process (it segfaults).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from faceage.adapters import weight_facts
from faceage.models.base import (
    Embedder,
    Face,
    FaceResult,
    MissingPackageError,
    ModelAdapter,
    WeightFile,
    face_choice,
    package_versions,
)

DEFAULTS = {
    "rec_model": "MobileFace",
    "det_model": "BlazeFace",
    "det_size": 640,
    "det_thresh": 0.8,
    "use_gpu": False,
    "cpu_threads": 1,
    "enable_mkldnn": False,
    "box_margin": 0.0,
    "align": "eyes",
    "weights_dir": "",
    "batch_size": 32,
}
NO_DETECTOR = ("none", "", "skip")
CLEAN = "clean"  # the cleaning stage's face box instead of BlazeFace
TARS = {
    "ArcFace": "arcface_iresnet50_v1.0_infer",
    "BlazeFace": "blazeface_fpn_ssh_1000e_v1.0_infer",
    "MobileFace": "mobileface_v1.0_infer",
}
TAR_URL = "https://paddle-model-ecology.bj.bcebos.com/model/insight-face/{}.tar"
MODEL_FILES = ("inference.pdmodel", "inference.pdiparams")


def resolved(settings: dict) -> dict:
    """``settings`` with every default filled in (what provenance records)."""
    return ADAPTER.resolved(settings)


def uses_detector(s: dict) -> bool:
    """Does the package's own detector (BlazeFace or a folder) run?"""
    return str(s["det_model"]).lower() not in (*NO_DETECTOR, CLEAN)


def uses_clean_box(s: dict) -> bool:
    return str(s["det_model"]).lower() == CLEAN


def grown_box(face: Face, margin: float, width: int, height: int) -> np.ndarray:
    """The package's box row ``[class, score, left, top, right, bottom]`` for ``face``, grown by
    ``margin`` of its width and height on each side and clipped to the image."""
    dx = (face.right - face.left) * margin
    dy = (face.bottom - face.top) * margin
    return np.array(
        [
            0.0,
            1.0,
            max(0.0, face.left - dx),
            max(0.0, face.top - dy),
            min(float(width), face.right + dx),
            min(float(height), face.bottom + dy),
        ],
        dtype=np.float64,
    )


def model_dir(name: str, settings: dict, weights_dir: Path) -> Path:
    """Folder of one network: ``name`` itself when it is a path, else ``<root>/<name>``.

    ``<root>`` is the ``weights_dir`` setting, else ``<workflow weights_dir>/insightface_paddle``.
    """
    p = Path(str(name)).expanduser()
    if p.is_absolute() or os.sep in str(name):
        return p
    root = resolved(settings)["weights_dir"] or Path(weights_dir) / "insightface_paddle"
    return Path(root) / str(name)


def source(name: str) -> str:
    if name in TARS:
        return (
            TAR_URL.format(TARS[name]) + " (untar; keep inference.pdmodel and inference.pdiparams)"
        )
    return "your own PaddlePaddle inference model (saved with FLAGS_enable_pir_api=0)"


def set_environment() -> None:
    os.environ["FLAGS_enable_pir_api"] = "0"


def aligned_crop(rgb: np.ndarray, eyes: np.ndarray, size: int = 112) -> np.ndarray:
    """The ``size`` x ``size`` crop with the eyes on ArcFace's template (cv2.warpAffine)."""
    import cv2

    from faceage.detection import ARCFACE_EYES, eye_alignment

    matrix = eye_alignment(eyes, ARCFACE_EYES * (size / 112.0))
    return cv2.warpAffine(rgb, matrix, (size, size), borderValue=0.0)


class PaddleEmbedder(Embedder):
    def __init__(self, settings: dict, weights_dir: Path, state_dir: Path):
        set_environment()
        self.settings = s = resolved(settings)
        try:
            from insightface_paddle import InsightFace, parser
        except ImportError as exc:
            raise MissingPackageError(
                "insightface_paddle", "insightface-paddle and paddlepaddle", "paddle", exc
            ) from exc
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        common = [
            "--use_gpu",
            str(bool(s["use_gpu"])),
            "--cpu_threads",
            str(int(s["cpu_threads"])),
            "--enable_mkldnn",
            str(bool(s["enable_mkldnn"])),
            "--max_batch_size",
            "64",
        ]
        rec_dir = str(model_dir(s["rec_model"], s, weights_dir))
        # The package wants an index for recognition; embedding needs none. Its
        # "build index" mode loads the recogniser without one (the index is never built).
        rec_args = parser().parse_args(
            common
            + [
                "--rec_model",
                rec_dir,
                "--build_index",
                str(state_dir / "unused_index.bin"),
                "--img_dir",
                str(state_dir),
                "--label",
                str(state_dir / "unused_labels.txt"),
            ]
        )
        if uses_detector(s):
            det_dir = str(model_dir(s["det_model"], s, weights_dir))
            det_args = parser().parse_args(
                common
                + ["--det", "--det_model", det_dir, "--det_thresh", str(float(s["det_thresh"]))]
            )
            self.app = InsightFace(det_args, print_info=False)
            size = int(s["det_size"])
            self.app.det_predictor.target_size = [size, size]
            self.app.init_rec(rec_args)
        else:
            self.app = InsightFace(rec_args, print_info=False)
        self.policy = face_choice(s)

    def _recognise(self, rgb: np.ndarray, boxes=None) -> np.ndarray:
        """The package's Recognizer on one image (its own crop, resize and normalisation)."""
        feats = self.app.rec_predictor.predict(self.app.preprocess(rgb), boxes)
        return np.asarray(feats, dtype=np.float32).reshape(1 if boxes is None else len(boxes), -1)

    def embed_batch(self, images: list[np.ndarray], faces: list[Face | None]) -> list[FaceResult]:
        if uses_clean_box(self.settings):
            return self._embed_clean_boxes(images, faces)
        results = []
        for rgb in images:  # the package's predictor takes RGB, one image at a time
            boxes, feats = self.app.predict_np_img(rgb)
            if boxes is None:  # no detector: the whole image is the face
                h, w = rgb.shape[:2]
                found = [Face(0, 0, w, h)]
            else:
                found = [
                    Face(float(b[2]), float(b[3]), float(b[4]), float(b[5]), float(b[1]))
                    for b in boxes
                ]
            face, status = self.policy.choose(found, rgb.shape)
            res = FaceResult(None, status, len(found) if boxes is not None else -1, face)
            if face is not None:
                vecs = np.asarray(feats, dtype=np.float32).reshape(len(found), -1)
                res.vector = vecs[found.index(face)]
                self.dim = vecs.shape[1]
            results.append(res)
        return results

    def _embed_clean_boxes(self, images, faces) -> list[FaceResult]:
        align = str(self.settings["align"]).lower()
        if align not in ("eyes", "none"):
            raise ValueError(f"insightface_paddle align must be eyes or none, got {align!r}")
        if align == "eyes" and not hasattr(self, "_eyes"):
            from faceage.detection import DlibEyes

            self._eyes = DlibEyes()
        margin = float(self.settings["box_margin"])
        results = []
        for rgb, face in zip(images, faces, strict=True):
            if face is None:
                results.append(FaceResult(None, "no_face", 0, None))
                continue
            if align == "eyes":
                vec = self._recognise(aligned_crop(rgb, self._eyes(rgb, face)))[0]
            else:
                box = grown_box(face, margin, rgb.shape[1], rgb.shape[0])
                vec = self._recognise(rgb, [box])[0]
            self.dim = vec.shape[0]
            results.append(FaceResult(vec, "ok", -1, face))
        return results

    def embed_fallback(self, images: list[np.ndarray], boxes: list[Face]) -> list[FaceResult]:
        """With ``det_model: clean``, the guessed box goes through the same route as a
        cleaning box (eye alignment by dlib's landmarks in it, or the package's crop).
        BlazeFace has no second route: the stage's last resort takes the centre crop."""
        if not uses_clean_box(self.settings):
            return super().embed_fallback(images, boxes)
        results = self._embed_clean_boxes(images, boxes)
        for r in results:
            r.n_faces = 0
        return results

    def embed_aligned(self, crops: list[np.ndarray]) -> list[FaceResult]:
        """Each crop is the face: the package's recogniser on the whole crop, no detection."""
        results = []
        for crop in crops:
            vec = self._recognise(crop)[0]
            self.dim = vec.shape[0]
            results.append(FaceResult(vec, "ok", -1, None))
        return results


class PaddleAdapter(ModelAdapter):
    name = "insightface_paddle"
    env = "paddle"
    defaults = DEFAULTS
    uses_clean_faces = False

    def required_files(self, settings, weights_dir):
        s = resolved(settings)
        nets = [s["rec_model"]] + ([s["det_model"]] if uses_detector(s) else [])
        return [
            WeightFile(model_dir(n, s, weights_dir) / f, source(str(n)))
            for n in nets
            for f in MODEL_FILES
        ]

    def download_hint(self):
        return (
            "insightface-paddle reads one folder per network holding inference.pdmodel and "
            "inference.pdiparams. With internet: `snakemake --cores 1 download_weights` "
            "(see docs/models.md)."
        )

    def downloads(self, settings, weights_dir):
        """The package's published tar of each named network (own folders are not fetched)."""
        from faceage.models.download import Download

        s = resolved(settings)
        nets = [s["rec_model"]] + ([s["det_model"]] if uses_detector(s) else [])
        return [
            Download(TAR_URL.format(TARS[n]), model_dir(n, s, weights_dir), "tar", MODEL_FILES)
            for n in nets
            if n in TARS
        ]

    def load(self, settings, weights_dir, state_dir):
        return PaddleEmbedder(settings, Path(weights_dir), Path(state_dir))

    def provenance(self, settings, weights_dir):
        s = resolved(settings)
        return {
            "model": self.name,
            "env": self.env,
            "embedding": f"insightface-paddle recogniser {s['rec_model']}",
            "rec_model_dir": str(model_dir(s["rec_model"], s, weights_dir)),
            "weights": {
                str(n): weight_facts([model_dir(n, s, weights_dir) / f for f in MODEL_FILES])
                for n in [s["rec_model"]] + ([s["det_model"]] if uses_detector(s) else [])
            },
            "detector": str(s["det_model"])
            if uses_detector(s)
            else "the cleaning stage's face box"
            if uses_clean_box(s)
            else "none (whole image)",
            "det_size": [int(s["det_size"])] * 2 if uses_detector(s) else None,
            "det_thresh": s["det_thresh"],
            "alignment": (
                "eyes: dlib 5-point eye centres onto ArcFace's 112x112 template"
                if uses_clean_box(s) and str(s["align"]).lower() == "eyes"
                else "none: box crop resized to 112x112 (the package's way)"
                + (f", box grown by {s['box_margin']} per side" if uses_clean_box(s) else "")
            ),
            "colour_order": "RGB, (x/255 - 0.5) / 0.5",
            "device": "gpu"
            if s["use_gpu"]
            else f"cpu, {s['cpu_threads']} thread(s), mkldnn={s['enable_mkldnn']}",
            "flags": {"FLAGS_enable_pir_api": "0"},
            "multi_face": face_choice(s).mode,
            "settings": s,
            "packages": package_versions(
                "insightface-paddle", "paddlepaddle", "paddlepaddle-gpu", "opencv-python", "numpy"
            ),
        }


ADAPTER = PaddleAdapter()
